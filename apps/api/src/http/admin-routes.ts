import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { GenerationQueue } from '@ragstream/lifecycle';
import type { IngestionQueue } from '@ragstream/realtime';
import type { RequestHandler } from 'express';
import { Router } from 'express';
import type { AdminAuth } from './admin-auth.ts';
import { requireAdmin } from './admin-auth.ts';
import { adminLoginRoutes, loginPage } from './admin-login.ts';
import { generationBoardData, generationBoardName, ingestionBoardData, ingestionBoardName } from './board-formatters.ts';
import { boardContentSecurityPolicy } from './security-headers.ts';

export const BOARD_PATH = '/admin/queues';

export interface AdminRoutesDeps {
  auth: AdminAuth;
  generation: GenerationQueue['queue'];
  ingestion: IngestionQueue['queue'];
}

/** Bull Board over this node's own queue instances, behind admin authentication, plus the browser login. */
export function adminRoutes({ auth, generation, ingestion }: AdminRoutesDeps): Router {
  // Read-only: a generation's job is one of several places its state lives, and only the lifecycle
  // may move it (retrying or removing it here would bypass fencing and the chat's turn order).
  const generationAdapter = new BullMQAdapter(generation, { readOnlyMode: true, description: 'answers' });
  generationAdapter.setFormatter('data', generationBoardData);
  generationAdapter.setFormatter('name', generationBoardName);
  const ingestionAdapter = new BullMQAdapter(ingestion, { readOnlyMode: true, description: 'documents' });
  ingestionAdapter.setFormatter('data', ingestionBoardData);
  ingestionAdapter.setFormatter('name', ingestionBoardName);

  const serverAdapter = new ExpressAdapter().setBasePath(BOARD_PATH);
  createBullBoard({ queues: [generationAdapter, ingestionAdapter], serverAdapter });

  const router = Router();
  router.use(adminLoginRoutes(auth, BOARD_PATH));
  router.use(BOARD_PATH, boardContentSecurityPolicy(), requireAdmin(auth, loginPage()), serverAdapter.getRouter() as RequestHandler);
  return router;
}
