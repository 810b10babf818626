"""The seed's three FastAPI examples (shared/seed/fastapi-background-tasks.zh.md), as one app.

Faithful to the seed: the same handlers, task functions and file handling (the upload is read
whole into memory, written under the client's filename, then parsed with pandas.read_csv).
Two changes, both so it runs on a machine without internet and does the same work as ours:
- files live in DATA_DIR (the process chdirs there; the seed wrote to the working directory);
- send_email() writes the MIMEText message to DATA_DIR/outbox/*.eml (a local sink, like our
  example server's default); with SMTP_URL=smtp://host:port it sends it over SMTP as the seed did.

Run: DATA_DIR=/tmp/x python3 -m uvicorn app:app --app-dir bench/fastapi --port 8000
"""
import os
import smtplib
import uuid
from email.mime.text import MIMEText
from urllib.parse import urlparse

from fastapi import BackgroundTasks, FastAPI, File, UploadFile
from pydantic import BaseModel

try:
    import pandas as pd
except ImportError:  # the upload example needs it: apt-get install python3-pandas
    pd = None

DATA_DIR = os.environ.get("DATA_DIR") or os.getcwd()
os.makedirs(os.path.join(DATA_DIR, "outbox"), exist_ok=True)
os.chdir(DATA_DIR)
SMTP_URL = os.environ.get("SMTP_URL")

app = FastAPI()


# Example 0: log
def write_log(message: str):
    with open("log.txt", mode="a") as log:
        log.write(message)


@app.post("/send-notification/{email}")
async def send_notification(email: str, background_tasks: BackgroundTasks):
    background_tasks.add_task(write_log, f"Sending notification to {email}")
    return {"message": "Notification sent in the background"}


# Example 1: welcome email
class User(BaseModel):
    email: str
    username: str


def send_email(email: str, username: str):
    sender_email = "your_email@example.com"
    receiver_email = email

    message = MIMEText(f"欢迎 {username} 注册!")
    message["Subject"] = "欢迎注册"
    message["From"] = sender_email
    message["To"] = receiver_email

    try:
        if SMTP_URL:
            url = urlparse(SMTP_URL)
            with smtplib.SMTP(url.hostname, url.port or 25) as server:
                server.sendmail(sender_email, receiver_email, message.as_string())
        else:
            with open(os.path.join("outbox", f"{uuid.uuid4().hex}.eml"), "w") as sink:
                sink.write(message.as_string())
    except Exception as e:
        print(f"邮件发送失败: {e}")


@app.post("/register")
async def register_user(user: User, background_tasks: BackgroundTasks):
    # 模拟用户注册
    print(f"用户 {user.username} 注册成功")
    background_tasks.add_task(send_email, user.email, user.username)
    return {"message": "注册成功，欢迎邮件将在后台发送"}


# Example 2: CSV upload
def process_csv(file_path: str):
    try:
        df = pd.read_csv(file_path)
        # 在这里进行你的数据处理逻辑
        print(f"文件处理完毕，共有 {len(df)} 行数据")
    except Exception as e:
        print(f"文件处理失败: {e}")


@app.post("/upload")
async def upload_file(file: UploadFile = File(...), background_tasks: BackgroundTasks = BackgroundTasks()):
    file_path = f"{file.filename}"
    try:
        contents = await file.read()
        with open(file_path, "wb") as f:
            f.write(contents)
    except Exception:
        return {"message": "There was an error uploading the file"}
    finally:
        await file.close()

    background_tasks.add_task(process_csv, file_path)
    return {"filename": file.filename, "message": "文件上传成功，将在后台处理"}
