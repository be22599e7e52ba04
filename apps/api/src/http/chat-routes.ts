import type { Chat } from '@ragstream/protocol';
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
import type { Request, Router } from 'express';
import express from 'express';
import { ApiError, chatNotFound } from '../api-error.ts';
import { actingUser, canReadOrganisation, canUseChat } from '../auth/access.ts';
import { requestPrincipal } from '../auth/authenticator.ts';
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

/**
 * The seed's REST endpoints, plus stop and the status of a chat's connections and answer.
 * With authentication on, the caller's own chats only: another user's chat is a 404 like a
 * chat that does not exist, and a `userId` in a body or path must be the token's `sub`.
 */
export function chatRoutes({ store, knowledge, service, events, maxMessageBytes, logger }: ChatRoutesDeps): Router {
  const router = express.Router();
  const checkSize = (text: string): void => {
    const bytes = utf8Bytes(text);
    if (bytes > maxMessageBytes)
      throw new ApiError('message_too_large', `text is ${bytes} bytes of UTF-8; the limit is ${maxMessageBytes}`);
  };
  /** The chat, if it exists and is the caller's: someone else's chat and no chat look the same. */
  const requireChat = async (req: Request, chatId: string): Promise<Chat> => {
    const chat = await store.getChat(chatId);
    if (!chat || !canUseChat(requestPrincipal(req), chat)) throw chatNotFound(chatId);
    return chat;
  };
  /** An unknown chat reads as chat_not_found, as a malformed chat id does. */
  const messageNotFound = (chatId: string, messageId: string): ApiError =>
    new ApiError('message_not_found', `message ${messageId} does not exist in chat ${chatId}`);

  router.post('/chat', async (req, res) => {
    const principal = requestPrincipal(req);
    const body = parseBody(createChatBodySchema, req.body);
    const userId = actingUser(principal, body.userId);
    if (userId === undefined) throw new ApiError('invalid_body', 'userId: required');
    // With authentication on, a chat belongs to the caller's organisation unless an admin names another.
    const organisationId = body.organisationId ?? principal?.organisationId;
    if (
      organisationId !== undefined &&
      (!canReadOrganisation(principal, organisationId) || !(await knowledge.getOrganisation(organisationId)))
    ) {
      throw new ApiError('organisation_not_found', `organisation ${organisationId} does not exist`);
    }
    const chat = await store.createChat({ userId, title: body.title ?? 'New chat', organisationId });
    events.chatCreated(chat);
    res.status(201).json(chat);
  });

  router.get('/chat/user/:userId', async (req, res) => {
    const userId = String(req.params.userId);
    const principal = requestPrincipal(req);
    if (principal !== undefined && userId !== principal.userId) throw new ApiError('forbidden', "another user's chats cannot be listed");
    const page = parseQuery(pageQuerySchema, req.query);
    res.json(await store.listChatsByUser(userId, page));
  });

  router.get('/chat/ws/:chatId/status', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    await requireChat(req, chatId);
    res.json(await service.status(chatId));
  });

  router.get('/chat/:chatId', async (req, res) => {
    res.json(await requireChat(req, chatIdParam(req.params.chatId)));
  });

  router.put('/chat/:chatId', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const body = parseBody(updateChatBodySchema, req.body);
    await requireChat(req, chatId);
    const chat = await store.updateChat(chatId, body);
    if (!chat) throw chatNotFound(chatId);
    events.chatRenamed(chat);
    res.json(chat);
  });

  router.delete('/chat/:chatId', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    await requireChat(req, chatId);
    if (!(await service.deleteChat(chatId))) throw chatNotFound(chatId);
    res.status(204).end();
  });

  router.get('/chat/:chatId/messages', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const page = parseQuery(pageQuerySchema, req.query);
    await requireChat(req, chatId);
    res.json(await store.listMessages(chatId, page));
  });

  router.post('/chat/:chatId/messages', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const body = parseBody(createMessageBodySchema, req.body);
    checkSize(body.text);
    // Checked before storing: a rejected request must not leave a message behind.
    const userId = actingUser(requestPrincipal(req), body.userId);
    if (body.role === 'bot') {
      if (body.generate) throw new ApiError('invalid_body', 'generate: only a user message can start an answer');
      await requireChat(req, chatId);
      const { value, created } = await store.createMessage({ chatId, role: 'bot', text: body.text, clientMessageId: body.clientMessageId });
      res.status(created ? 201 : 200).json(value);
      return;
    }
    if (body.generate && userId === undefined) throw new ApiError('invalid_body', 'userId: required when generate is true');
    const chat = await requireChat(req, chatId);
    // The caller, for limits and quotas: the acting user, in the chat's organisation.
    const caller: Caller | undefined = userId === undefined ? undefined : { userId, organisationId: chat.organisationId };
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
    if (body.generate && userId !== undefined) {
      await service.requestAnswer(stored, { userId, timezone: body.timezone, selectedLanguage: body.selectedLanguage });
    }
    res.status(stored.created ? 201 : 200).json({
      ...stored.message,
      ...(body.generate ? { generationId: stored.generationId } : {}),
    });
  });

  router.post('/chat/:chatId/stop', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    await requireChat(req, chatId);
    const stopped = await service.stop(chatId);
    logger.info('stop requested', { chatId, transport: 'rest', stopped });
    res.json({ chatId, stopped });
  });

  router.get('/chat/:chatId/full', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const page = parseQuery(pageQuerySchema, req.query);
    const chat = await requireChat(req, chatId);
    res.json({ ...chat, messages: await store.listMessages(chatId, page) });
  });

  router.put('/chat/:chatId/messages/:messageId', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const messageId = messageIdParam(req.params.messageId);
    const body = parseBody(updateMessageBodySchema, req.body);
    checkSize(body.text);
    await requireChat(req, chatId);
    const message = await store.updateMessage(chatId, messageId, body);
    if (!message) throw messageNotFound(chatId, messageId);
    res.json(message);
  });

  router.delete('/chat/:chatId/messages/:messageId', async (req, res) => {
    const chatId = chatIdParam(req.params.chatId);
    const messageId = messageIdParam(req.params.messageId);
    await requireChat(req, chatId);
    if (!(await store.deleteMessage(chatId, messageId))) throw messageNotFound(chatId, messageId);
    res.status(204).end();
  });

  return router;
}
