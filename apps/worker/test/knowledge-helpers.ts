import type { HttpClient } from '@ragstream/testing';

export interface DocumentView {
  id: string;
  status: string;
  revision: number;
  chunkCount: number;
  progress: number;
  error?: string;
}

/** Uploads a document and waits until ingestion has made it searchable (or failed). */
export async function uploadAndWait(
  http: HttpClient,
  organisationId: string,
  body: { title: string; format?: string; content: string },
  documentId?: string,
): Promise<DocumentView> {
  const path = `/organisations/${organisationId}/documents${documentId ? `/${documentId}` : ''}`;
  const upload = await http.request<DocumentView>(documentId ? 'PUT' : 'POST', path, body);
  if (upload.status !== 202) throw new Error(`upload: ${upload.status} ${JSON.stringify(upload.body)}`);
  return waitForDocument(http, organisationId, upload.body.id, upload.body.revision);
}

/** Polls the document's status (the job's progress) until its revision is ready or failed. */
export async function waitForDocument(
  http: HttpClient,
  organisationId: string,
  documentId: string,
  revision: number,
  timeoutMs = 30_000,
): Promise<DocumentView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await http.get<DocumentView>(`/organisations/${organisationId}/documents/${documentId}`);
    if (body.revision === revision && (body.status === 'ready' || body.status === 'failed')) return body;
    if (Date.now() > deadline) throw new Error(`document ${documentId} not ready: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function createOrganisation(http: HttpClient, body: Record<string, unknown>): Promise<string> {
  const { status, body: created } = await http.post<{ id: string }>('/organisations', body);
  if (status !== 201) throw new Error(`create organisation: ${status} ${JSON.stringify(created)}`);
  return created.id;
}
