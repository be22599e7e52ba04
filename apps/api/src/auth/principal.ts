/**
 * The verified caller of a request or a connection, read from a JWT. Where authentication is off
 * (the local quick start) there is no principal: callers pass `undefined` and nothing is checked.
 */
export interface Principal {
  /** The token's `sub`: the user, on every transport, whatever a frame or body claims. */
  readonly userId: string;
  /** The organisation claim (`org` unless AUTH_ORG_CLAIM names another), else the default organisation. */
  readonly organisationId: string;
  /** `role: "admin"`: Bull Board, the admin endpoints, every organisation. */
  readonly admin: boolean;
  /** `org_role: "admin"`: may change the profile and the documents of `organisationId`. */
  readonly orgAdmin: boolean;
  /** When the token expires (ms since the epoch), from its `exp`; undefined for a token without one. */
  readonly expiresAt: number | undefined;
}
