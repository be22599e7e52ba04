// Node Socket.IO client of namespace /chat: events are named by `mt` and carry the WebSocket payloads.
//   node examples/socketio-client.mjs [BASE_URL] [CHAT_ID]
// BASE_URL defaults to http://localhost:8000 (or RAGSTREAM_URL); without CHAT_ID a chat is created.
import { io } from 'socket.io-client';
import { createChat } from './create-chat.mjs';

const baseUrl = process.argv[2] ?? process.env.RAGSTREAM_URL ?? 'http://localhost:8000';
const chatId = process.argv[3] ?? (await createChat(baseUrl));

// WebSocket transport only: long-polling would need sticky sessions behind a load balancer.
const socket = io(`${baseUrl}/chat`, { transports: ['websocket'], auth: { chatId } });
let answer = '';
socket.on('connect', () => {
  socket.emit('message_upload', { message: 'Hello!', userId: '123', timezone: 'UTC', selectedLanguage: 'en' });
});
socket.on('message_upload_confirm', (frame) => console.log('Received: message_upload_confirm', frame.messageId));
socket.on('typing_indicator', () => {
  answer = '';
});
socket.on('chat_message_bot_partial', (frame) => {
  answer += frame.delta;
});
socket.on('chat_message_bot_complete', (frame) => {
  console.log(`Answer (${frame.status}): ${answer}`);
  socket.close();
});
socket.on('error', (frame) => console.error('error frame:', frame));
socket.on('connect_error', (error) => {
  console.error('connect_error:', error.message);
  process.exitCode = 1;
  socket.close();
});
