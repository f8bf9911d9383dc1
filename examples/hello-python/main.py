# Deploy: npx skyscale fn deploy examples/hello-python --name hello-py --runtime python
import os


def handler(event, context):
    print("remaining ms:", context.get_remaining_time_in_millis())
    return {"message": "Hello " + event.get("name", "world"), "greeting_env": os.environ.get("GREETING")}
