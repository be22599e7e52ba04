import {
  createChatBodySchema,
  createMessageBodySchema,
  pageQuerySchema,
  updateChatBodySchema,
  updateMessageBodySchema,
  utf8Bytes,
} from '@ragstream/protocol';
import type { Logger } from '@ragstream/runtime';
import type { ChatStore, KnowledgeStore } from '@ragstream/store';
import type { Router } from 'express';
import express from 'express';
import { ApiError, chatNotFound } from '../api-error.ts';
import type { ChatService } from '../chat-service.ts';
import type { Caller } from '../limits/caller.ts';
import { incomingTraceId, startTrace } from '../message-trace.ts';
import type { UserEvents } from '../user-events.ts';
import { chatIdParam, messageIdParam, parseBody, parseQuery } from './validate.ts';

export interface ChatRoutesDeps {
  store: ChatStore;
  knowledge: KnowledgeStore;
  service: ChatService;
  events: UserEvents;
  maxMessageBytes: number;
  logger: Logger;
}

/** The seed's REST endpoints, plus stop and the status of a chat's connections and answer. */
export function chatRoutes({ store, knowledge, service, events, maxMessageBytes, logger }: ChatRoutesDeps): Router {
  const router = express.Router();
  const checkSize = (text: string): void => {
    const bytes = utf8Bytes(text);
    if (bytes > maxMessageBytes)
      throw new ApiError('message_too_large', `text is ${bytes} bytes of UTF-8; the limit is ${maxMessageBytes}`);
  };
  const requireChat = async (chatId: string): Promise<void> => {
    if (!(await store.getChat(chatId))) throw chatNotFound(chatId);
  };
  /** An unknown chat reads as chat_not_found, as a malformed chat id does. */
  const messageNotFound = async (chatId: string, messageId: string): Promise<ApiError> =>
    (await store.getChat(chatId))
      ? new ApiError('message_not_found', `message ${messageId} does not exist in chat ${chatId}`)
      : chatNotFound(chatId);

  router.post('/chat', async (req, res) => {
    const body = parseBody(createChatBodySchema, req.body);
    if (body.organisationId !== undefined && !(await knowledge.getOrganisation(body.organisationId))) {
      throw new ApiError('organisation_not_found', `organisation ${body.organisationId} does not exist`);
    }
    const chat = await store.createChat({ userId: body.userId, title: body.title ?? 'New chat', organisationId: body.organisationId });
    events.chatCreated(chat);
    res.status(201).json(chat);
  });

  router.get('/chat/user/:userId', async (req, res) => {
    const page = parseQuery(pageQuerySchema, req.query);
    res.json(await store.listChatsByUser(String(req.params.userId), page));
  });

  router.get('/chat/ws/:chatId/status', async (req, res) => {
    res.json(await service.status(chatIdParam(req.params.chatId)));
  });

  router.get('/chat/:chatId', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const chat = await store.getChat(chatId);
    if (!chat) throw chatNotFound(chatId);
    res.json(chat);
  });

  router.put('/chat/:chatId', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const body = parseBody(updateChatBodySchema, req.body);
    const chat = await store.updateChat(chatId, body);
    if (!chat) throw chatNotFound(chatId);
    events.chatRenamed(chat);
    res.json(chat);
  });

  router.delete('/chat/:chatId', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    if (!(await service.deleteChat(chatId))) throw chatNotFound(chatId);
    res.status(204).end();
  });

  router.get('/chat/:chatId/messages', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const page = parseQuery(pageQuerySchema, req.query);
    await requireChat(chatId);
    res.json(await store.listMessages(chatId, page));
  });

  router.post('/chat/:chatId/messages', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const body = parseBody(createMessageBodySchema, req.body);
    checkSize(body.text);
    if (body.role === 'bot') {
      if (body.generate) throw new ApiError('invalid_body', 'generate: only a user message can start an answer');
      await requireChat(chatId);
      const { value, created } = await store.createMessage({ chatId, role: 'bot', text: body.text, clientMessageId: body.clientMessageId });
      res.status(created ? 201 : 200).json(value);
      return;
    }
    // Checked before storing: a rejected request must not leave a message behind.
    if (body.generate && body.userId === undefined) throw new ApiError('invalid_body', 'userId: required when generate is true');
    const chat = await store.getChat(chatId);
    if (!chat) throw chatNotFound(chatId);
    // The caller, for limits and quotas: the user the body names, in the chat's organisation.
    const caller: Caller | undefined = body.userId === undefined ? undefined : { userId: body.userId, organisationId: chat.organisationId };
    const trace = startTrace(
      logger.child({ chatId, transport: 'rest' }),
      incomingTraceId((name) => req.get(name)),
    );
    // Told back, so that a client can find its message in the logs.
    res.set('x-request-id', trace.traceId);
    trace.log.info('user message received', {
      bytes: utf8Bytes(body.text),
      clientMessageId: body.clientMessageId,
      generate: body.generate,
    });
    const stored = await service.storeUserMessage(
      chatId,
      { text: body.text, clientMessageId: body.clientMessageId },
      trace,
      caller === undefined ? undefined : { caller, answer: body.generate },
    );
    if (body.generate && body.userId !== undefined) {
      await service.requestAnswer(stored, { userId: body.userId, timezone: body.timezone, selectedLanguage: body.selectedLanguage });
    }
    res.status(stored.created ? 201 : 200).json({
      ...stored.message,
      ...(body.generate ? { generationId: stored.generationId } : {}),
    });
  });

  router.post('/chat/:chatId/stop', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const stopped = await service.stop(chatId);
    logger.info('stop requested', { chatId, transport: 'rest', stopped });
    res.json({ chatId, stopped });
  });

  router.get('/chat/:chatId/full', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const page = parseQuery(pageQuerySchema, req.query);
    const chat = await store.getChat(chatId);
    if (!chat) throw chatNotFound(chatId);
    res.json({ ...chat, messages: await store.listMessages(chatId, page) });
  });

  router.put('/chat/:chatId/messages/:messageId', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const messageId = messageIdParam(req.params.messageId);
    const body = parseBody(updateMessageBodySchema, req.body);
    checkSize(body.text);
    const message = await store.updateMessage(chatId, messageId, body);
    if (!message) throw await messageNotFound(chatId, messageId);
    res.json(message);
  });

  router.delete('/chat/:chatId/messages/:messageId', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const messageId = messageIdParam(req.params.messageId);
    if (!(await store.deleteMessage(chatId, messageId))) throw await messageNotFound(chatId, messageId);
    res.status(204).end();
  });

  return router;
}
