import type { Chat } from '@ragstream/protocol';
import { ApiError } from '../api-error.ts';
import type { Principal } from './principal.ts';

/*
 * Who may do what. `principal` undefined means authentication is off (the local quick start,
 * bound to localhost): every check passes and the user is the `userId` the client sends.
 */

/**
 * The user a frame or body speaks for: the token's `sub`, which a `userId` may repeat but
 * never contradict (ApiError `forbidden`). With authentication off, the `userId` sent;
 * undefined when none was.
 */
export function actingUser(principal: Principal | undefined, claimed: string | undefined): string | undefined {
  if (!principal) return claimed;
  if (claimed !== undefined && claimed !== principal.userId) {
    throw new ApiError('forbidden', 'userId must be the user of the token (its sub claim), or be left out');
  }
  return principal.userId;
}

/** A user sees and acts on their own chats only; someone else's chat reads as one that does not exist. */
export function canUseChat(principal: Principal | undefined, chat: Pick<Chat, 'userId'>): boolean {
  return principal === undefined || chat.userId === principal.userId;
}

/** Members read their organisation (profile, documents); admins read every organisation. */
export function canReadOrganisation(principal: Principal | undefined, organisationId: string): boolean {
  return principal === undefined || principal.admin || principal.organisationId === organisationId;
}

/** Changing a profile or documents needs the admin role, or the organisation-admin claim for one's own organisation. */
export function canChangeOrganisation(principal: Principal | undefined, organisationId: string): boolean {
  return principal === undefined || principal.admin || (principal.orgAdmin && principal.organisationId === organisationId);
}

/** The admin endpoints of the API (creating organisations, listing every one); Bull Board has its own gate (admin-auth.ts). */
export function canAdminister(principal: Principal | undefined): boolean {
  return principal === undefined || principal.admin;
}
