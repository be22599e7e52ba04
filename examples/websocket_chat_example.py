"""The seed's Python WebSocket client (scripts/websocket_chat_example.py), against RagStream.

    pip install websockets
    python examples/websocket_chat_example.py [BASE_URL] [CHAT_ID]

BASE_URL defaults to http://localhost:8000 (or the RAGSTREAM_URL variable); without a
CHAT_ID a chat is created for user 123. The loop is the seed's; it ends at the answer's
terminal frame (chat_message_bot_complete) instead of listening forever.
"""

import asyncio
import json
import os
import sys
import urllib.request

import websockets


def create_chat(base_url: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/chat/",
        data=json.dumps({"userId": "123"}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)["id"]


async def chat_client(base_url: str, chat_id: str) -> None:
    ws_url = base_url.replace("http", "ws", 1)
    async with websockets.connect(f"{ws_url}/chat/ws/{chat_id}") as websocket:
        # Send message
        await websocket.send(json.dumps({
            "mt": "message_upload",
            "message": "Hello!",
            "userId": "123",
            "timezone": "UTC",
            "selectedLanguage": "en"
        }))

        # Listen for responses
        async for response in websocket:
            data = json.loads(response)
            print(f"Received: {data}")
            if data["mt"] == "chat_message_bot_complete":
                print(f"Answer ({data['status']}): {data['text']}")
                break


if __name__ == "__main__":
    base = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("RAGSTREAM_URL", "http://localhost:8000")
    chat = sys.argv[2] if len(sys.argv) > 2 else create_chat(base)
    asyncio.run(chat_client(base, chat))
