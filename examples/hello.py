from brace import App

app = App()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"message": "Hello, World!"}
