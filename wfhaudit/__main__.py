from wfhaudit.cli import app

app(prog_name="wfhaudit")
