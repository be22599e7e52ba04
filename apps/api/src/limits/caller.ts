/**
 * Who acts, for limits and quotas: a user, in the organisation an answer is for (the chat's,
 * whose documents answer it and whose quota it uses). Each entry point makes it in one place:
 * a chat connection per message (the frame's `userId`, the chat's organisation), the REST
 * message route (the body's `userId`, the chat's organisation), and a connection as it opens
 * (the handshake's `userId`, else the chat's owner). Today the user is the id the client
 * claims; once requests carry a verified token it is the token's `sub`, and every limit keys
 * on what these say without changing.
 */
export interface Caller {
  userId: string;
  organisationId: string;
}
