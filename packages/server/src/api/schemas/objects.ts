import { Type } from 'typebox';

export const ObjectMeta = Type.Object({
  name: Type.String(),
  size: Type.Integer(),
  contentType: Type.String(),
  checksum: Type.String({ description: 'sha256:<hex>' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const ObjectListParams = Type.Object({ functionId: Type.String({ maxLength: 64 }) }, { additionalProperties: false });
export const ObjectParams = Type.Object({ functionId: Type.String({ maxLength: 64 }), name: Type.String({ maxLength: 1024 }) }, { additionalProperties: false });

export const ObjectUpload = Type.Unsafe({ description: 'The object: any content type, streamed (or multipart/form-data with one file)' });
export const ObjectDownload = Type.Unsafe({ description: 'The bytes, with the stored content type' });
