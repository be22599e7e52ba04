// Node WebSocket client of /chat/ws/:chatId (the seed's JavaScript example, with the `ws` package).
//   node examples/websocket-client.mjs [BASE_URL] [CHAT_ID]
// BASE_URL defaults to http://localhost:8000 (or RAGSTREAM_URL); without CHAT_ID a chat is created.
// It sends the seed's `Hello!`, or the text of RAGSTREAM_MESSAGE.
import WebSocket from 'ws';
import { createChat } from './create-chat.mjs';

const baseUrl = process.argv[2] ?? process.env.RAGSTREAM_URL ?? 'http://localhost:8000';
const chatId = process.argv[3] ?? (await createChat(baseUrl));
const message = process.env.RAGSTREAM_MESSAGE ?? 'Hello!';

const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/chat/ws/${chatId}`);
let answer = '';
ws.on('open', () => {
  ws.send(JSON.stringify({ mt: 'message_upload', message, userId: '123', timezone: 'UTC', selectedLanguage: 'en' }));
});
ws.on('message', (data) => {
  const frame = JSON.parse(data.toString());
  console.log('Received:', frame.mt, frame.seq ?? '');
  // A higher attempt (a retry after a worker crash) starts the answer over.
  if (frame.mt === 'typing_indicator') answer = '';
  if (frame.mt === 'chat_message_bot_partial') answer += frame.delta;
  if (frame.mt === 'chat_message_bot_complete') {
    console.log(`Answer (${frame.status}): ${answer}`);
    ws.close();
  }
});
ws.on('error', (error) => {
  console.error(error.message);
  process.exitCode = 1;
});
