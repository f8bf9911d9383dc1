export enum Mood {
  Happy = 'happy',
  Grumpy = 'grumpy',
}

export function greet(name: string, mood: Mood): { message: string } {
  return { message: mood === Mood.Happy ? `Hello ${name}!` : `Oh, it's you, ${name}.` };
}
