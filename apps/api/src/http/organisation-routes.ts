import type { DocumentFormat, DocumentUploadBody } from '@ragstream/protocol';
import {
  documentUploadBodySchema,
  FORMAT_BY_CONTENT_TYPE,
  organisationBodySchema,
  organisationPatchSchema,
  pageQuerySchema,
  utf8Bytes,
} from '@ragstream/protocol';
import type { IngestionQueue } from '@ragstream/realtime';
import type { Logger } from '@ragstream/runtime';
import type { DocumentRecord, KnowledgeStore } from '@ragstream/store';
import type { Request, RequestHandler, Response, Router } from 'express';
import express from 'express';
import { ApiError } from '../api-error.ts';
import { canAdminister, canChangeOrganisation, canReadOrganisation } from '../auth/access.ts';
import { requestPrincipal } from '../auth/authenticator.ts';
import { incomingTraceId, startTrace } from '../message-trace.ts';
import { parseBody, parseQuery } from './validate.ts';

/** Limits on documents; REST answers 413, 415 or 429 past them, before anything is stored. */
export interface DocumentLimits {
  /** Largest document, in bytes of UTF-8 (a PDF: of its base64). */
  maxBytes: number;
  /** The formats an upload may have. */
  formats: readonly DocumentFormat[];
  /** Documents an organisation may hold; 0: no limit. */
  perOrganisation: number;
}

export interface OrganisationRoutesDeps {
  knowledge: KnowledgeStore;
  ingestion: IngestionQueue;
  logger: Logger;
  documents: DocumentLimits;
}

const organisationNotFound = (id: string): ApiError => new ApiError('organisation_not_found', `organisation ${id} does not exist`);
const documentNotFound = (id: string): ApiError => new ApiError('document_not_found', `document ${id} does not exist`);

/**
 * Organisations (their profile is the context of answers) and their documents.
 * Document routes parse their own bodies, so mount this router before a general JSON parser.
 * With authentication on, members (the token's organisation) read their organisation, and
 * another organisation reads as one that does not exist; changing the profile or the documents
 * needs `org_role: "admin"` for one's own organisation or `role: "admin"` (any organisation),
 * and creating an organisation or listing them all needs `role: "admin"`.
 */
export function organisationRoutes({ knowledge, ingestion, logger, documents }: OrganisationRoutesDeps): Router {
  const router = express.Router();
  const { maxBytes } = documents;
  const rawText = express.text({
    type: Object.keys(FORMAT_BY_CONTENT_TYPE).filter((t) => t.startsWith('text/')),
    limit: maxBytes,
  });
  const rawPdf = express.raw({ type: 'application/pdf', limit: maxBytes });
  // Mounted before the API's small JSON limit: a document in JSON (a PDF in base64) may be large.
  const documentJson = express.json({ limit: Math.ceil(maxBytes * 1.4) });
  const profileJson = express.json();

  const requireOrganisation = async (id: string): Promise<void> => {
    if (!(await knowledge.getOrganisation(id))) throw organisationNotFound(id);
  };

  /** Before any body is read: a non-member gets the 404 of an unknown organisation, a member who may not change it 403. */
  const access =
    (need: 'read' | 'change'): RequestHandler =>
    (req, _res, next) => {
      const principal = requestPrincipal(req);
      const id = String(req.params.organisationId);
      if (!canReadOrganisation(principal, id)) throw organisationNotFound(id);
      if (need === 'change' && !canChangeOrganisation(principal, id)) {
        throw new ApiError('forbidden', `changing organisation ${id} needs org_role "admin" in it, or role "admin"`);
      }
      next();
    };
  const read = access('read');
  const change = access('change');

  /** A JSON body `{ title, format, content }`, or the raw text with its content type and `?title=`. */
  const uploadBody = (req: Request): DocumentUploadBody => {
    const type = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const format = FORMAT_BY_CONTENT_TYPE[type];
    // A PDF's bytes are kept as base64; ingestion extracts its text on the workers.
    const content: unknown = Buffer.isBuffer(req.body) ? req.body.toString('base64') : req.body;
    const body = format === undefined ? req.body : { title: req.query.title, format, content };
    const parsed = parseBody(documentUploadBodySchema, body);
    if (!documents.formats.includes(parsed.format)) {
      throw new ApiError(
        'unsupported_document_type',
        `${parsed.format} documents are not accepted; accepted: ${documents.formats.join(', ')}`,
      );
    }
    if (utf8Bytes(parsed.content) > maxBytes) {
      throw new ApiError('message_too_large', `document is over ${maxBytes} bytes`);
    }
    return parsed;
  };

  /** Checked before storing a new document; a replacement does not add one. */
  const checkDocumentCount = async (organisationId: string): Promise<void> => {
    if (documents.perOrganisation <= 0) return;
    const count = await knowledge.countDocuments(organisationId);
    if (count >= documents.perOrganisation) {
      throw new ApiError(
        'too_many_documents',
        `the organisation has ${count} documents, the most allowed (${documents.perOrganisation}); delete some first`,
      );
    }
  };

  /** One trace per upload request, carried by its ingestion job; its id is told back in X-Request-Id. */
  const queueIngestion = async (req: Request, res: Response, document: DocumentRecord): Promise<void> => {
    const { organisationId, id: documentId, revision } = document;
    const trace = startTrace(
      logger.child({ organisationId, documentId }),
      incomingTraceId((name) => req.get(name)),
    );
    res.set('x-request-id', trace.traceId);
    const jobId = await ingestion.enqueueIngest({ organisationId, documentId, revision, traceId: trace.traceId });
    trace.log.info('document queued for ingestion', { revision, jobId, format: document.format, bytes: document.bytes });
  };

  const adminOnly: RequestHandler = (req, _res, next) => {
    if (!canAdminister(requestPrincipal(req))) throw new ApiError('forbidden', 'creating an organisation needs role "admin"');
    next();
  };

  router.post('/organisations', adminOnly, profileJson, async (req, res) => {
    res.status(201).json(await knowledge.createOrganisation(parseBody(organisationBodySchema, req.body)));
  });

  router.get('/organisations', async (req, res) => {
    const page = parseQuery(pageQuerySchema, req.query);
    const principal = requestPrincipal(req);
    if (canAdminister(principal)) {
      res.json(await knowledge.listOrganisations(page));
      return;
    }
    // A member sees their own organisation only.
    const own = principal === undefined ? undefined : await knowledge.getOrganisation(principal.organisationId);
    res.json({ items: own ? [own] : [], nextCursor: null });
  });

  router.get('/organisations/:organisationId', read, async (req, res) => {
    const id = String(req.params.organisationId);
    const organisation = await knowledge.getOrganisation(id);
    if (!organisation) throw organisationNotFound(id);
    res.json(organisation);
  });

  router.put('/organisations/:organisationId', change, profileJson, async (req, res) => {
    const id = String(req.params.organisationId);
    const organisation = await knowledge.updateOrganisation(id, parseBody(organisationPatchSchema, req.body));
    if (!organisation) throw organisationNotFound(id);
    res.json(organisation);
  });

  router.post('/organisations/:organisationId/documents', change, documentJson, rawText, rawPdf, async (req, res) => {
    const organisationId = String(req.params.organisationId);
    const body = uploadBody(req);
    await requireOrganisation(organisationId);
    await checkDocumentCount(organisationId);
    const document = await knowledge.createDocument({ organisationId, ...body });
    await queueIngestion(req, res, document);
    res.status(202).json(document);
  });

  router.put('/organisations/:organisationId/documents/:documentId', change, documentJson, rawText, rawPdf, async (req, res) => {
    const organisationId = String(req.params.organisationId);
    const documentId = String(req.params.documentId);
    const body = uploadBody(req);
    const document = await knowledge.replaceDocumentContent(organisationId, documentId, body);
    if (!document) throw documentNotFound(documentId);
    await queueIngestion(req, res, document);
    res.status(202).json(document);
  });

  router.get('/organisations/:organisationId/documents', read, async (req, res) => {
    const organisationId = String(req.params.organisationId);
    const page = parseQuery(pageQuerySchema, req.query);
    await requireOrganisation(organisationId);
    res.json(await knowledge.listDocuments(organisationId, page));
  });

  router.get('/organisations/:organisationId/documents/:documentId', read, async (req, res) => {
    const documentId = String(req.params.documentId);
    const document = await knowledge.getDocument(String(req.params.organisationId), documentId);
    if (!document) throw documentNotFound(documentId);
    res.json(document);
  });

  router.delete('/organisations/:organisationId/documents/:documentId', change, async (req, res) => {
    const organisationId = String(req.params.organisationId);
    const documentId = String(req.params.documentId);
    if (!(await knowledge.deleteDocument(organisationId, documentId))) throw documentNotFound(documentId);
    await ingestion.enqueueDelete({ organisationId, documentId });
    res.status(204).end();
  });

  return router;
}
