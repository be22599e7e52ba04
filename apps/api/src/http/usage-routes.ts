import type { AnswersInProgress } from '@ragstream/lifecycle';
import type { PeriodCount, TokenQuotas } from '@ragstream/limits';
import type { LimitScope, PeriodUsage, UsageReport } from '@ragstream/protocol';
import { usageQuerySchema } from '@ragstream/protocol';
import type { KnowledgeStore } from '@ragstream/store';
import type { Router } from 'express';
import express from 'express';
import { ApiError } from '../api-error.ts';
import { actingUser } from '../auth/access.ts';
import { requestPrincipal } from '../auth/authenticator.ts';
import type { AdminAuth } from './admin-auth.ts';
import { parseQuery } from './validate.ts';

export interface UsageRoutesDeps {
  quotas: TokenQuotas;
  inProgress(owner: { userId?: string; organisationId?: string }): Promise<AnswersInProgress>;
  /** The answers-in-progress limits (0: none). */
  answers: { perUser: number; perOrganisation: number };
  knowledge: KnowledgeStore;
  admin: AdminAuth;
}

/**
 * `GET /usage`: the caller's own token counts for today and this month (UTC), with their
 * quotas and reset times, and its answers in progress. The caller is the token's user; with
 * authentication off, it names itself with `?userId=`.
 * `GET /organisations/:organisationId/usage`: the same for an organisation, for admins only.
 */
export function usageRoutes(deps: UsageRoutesDeps): Router {
  const router = express.Router();

  router.get('/usage', async (req, res) => {
    const principal = requestPrincipal(req);
    // With authentication on, the token says who asks (`?userId=` may repeat it); without, `?userId=` does.
    const { userId } = principal
      ? { userId: actingUser(principal, queryUserId(req)) ?? principal.userId }
      : parseQuery(usageQuerySchema, req.query);
    res.json(await report(deps, 'user', userId));
  });

  router.get('/organisations/:organisationId/usage', async (req, res) => {
    if (!(await deps.admin.isAdmin(req))) {
      res.set('www-authenticate', 'Bearer realm="ragstream-admin"');
      throw new ApiError('unauthorized', 'admin credentials are missing or invalid');
    }
    const organisationId = String(req.params.organisationId);
    if (!(await deps.knowledge.getOrganisation(organisationId))) {
      throw new ApiError('organisation_not_found', `organisation ${organisationId} does not exist`);
    }
    res.json(await report(deps, 'organisation', organisationId));
  });

  return router;
}

async function report(deps: UsageRoutesDeps, scope: LimitScope, id: string): Promise<UsageReport> {
  const [counts, inProgress] = await Promise.all([
    deps.quotas.usage(scope, id),
    deps.inProgress(scope === 'user' ? { userId: id } : { organisationId: id }),
  ]);
  const limit = scope === 'user' ? deps.answers.perUser : deps.answers.perOrganisation;
  return {
    scope,
    id,
    day: periodUsage(counts.day),
    month: periodUsage(counts.month),
    answersInProgress: { count: inProgress[scope], limit: limit > 0 ? limit : null },
  };
}

function periodUsage(count: PeriodCount): PeriodUsage {
  return {
    period: count.start,
    promptTokens: count.promptTokens,
    completionTokens: count.completionTokens,
    totalTokens: count.totalTokens,
    limit: count.limit,
    resetAt: count.resetAt.toISOString(),
  };
}

function queryUserId(req: express.Request): string | undefined {
  return typeof req.query.userId === 'string' ? req.query.userId : undefined;
}
