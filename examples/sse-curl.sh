#!/bin/sh
# Server-Sent Events with curl: open the chat's event stream, post a message that asks for an
# answer, and print every event until the answer's terminal frame.
#   sh examples/sse-curl.sh [BASE_URL] [CHAT_ID]
# BASE_URL defaults to http://localhost:8000 (or RAGSTREAM_URL); without CHAT_ID a chat is created.
set -eu

BASE_URL="${1:-${RAGSTREAM_URL:-http://localhost:8000}}"
CHAT_ID="${2:-}"
if [ -z "$CHAT_ID" ]; then
  CHAT_ID=$(curl -sSf -X POST "$BASE_URL/chat/" -H 'content-type: application/json' -d '{"userId":"123"}' |
    sed -n 's/^{"id":"\([0-9a-f]*\)".*/\1/p')
  [ -n "$CHAT_ID" ] || { echo "could not create a chat at $BASE_URL" >&2; exit 1; }
fi

DIR=$(mktemp -d)
mkfifo "$DIR/events"
CURL_PID=
trap '[ -z "$CURL_PID" ] || kill "$CURL_PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT

# -N: pass each event on as it arrives.
curl -sSN -H 'accept: text/event-stream' "$BASE_URL/chat/$CHAT_ID/events" > "$DIR/events" &
CURL_PID=$!
exec 3< "$DIR/events"

posted=
while IFS= read -r line <&3; do
  case "$line" in
    retry:*)
      # The stream is open (its first line): post now, so that no frame of the answer is missed.
      if [ -z "$posted" ]; then
        curl -sSf -X POST "$BASE_URL/chat/$CHAT_ID/messages" -H 'content-type: application/json' \
          -d '{"text":"Hello!","userId":"123","generate":true,"timezone":"UTC","selectedLanguage":"en"}' > /dev/null
        posted=1
      fi
      ;;
    data:*)
      echo "$line"
      # The terminal frame carries the whole answer text: the answer is complete.
      case "$line" in *'"mt":"chat_message_bot_complete"'*) exit 0 ;; esac
      ;;
  esac
done
echo "the event stream ended before the answer did" >&2
exit 1
