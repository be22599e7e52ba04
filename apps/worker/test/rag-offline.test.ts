import type { BotCompleteFrame, ChatMessage, Page } from '@ragstream/protocol';
import { minimalPdf } from '@ragstream/rag/testing';
import { HttpClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DocumentView } from './knowledge-helpers.ts';
import { createOrganisation, uploadAndWait, waitForDocument } from './knowledge-helpers.ts';

const POLICY = `# Returns

Customers can return any product within 30 days of delivery for a full refund.
Refunds are paid back to the original card within 5 business days.

# Shipping

Standard shipping takes 3 to 5 working days. Express shipping costs 12 euros and arrives the next day.`;

const POLICY_HI = `# वापसी

ग्राहक डिलीवरी के 30 दिनों के भीतर कोई भी उत्पाद लौटा सकते हैं। पैसा 5 कार्य दिवसों में मूल कार्ड पर वापस आता है।

# शिपिंग

एक्सप्रेस शिपिंग की कीमत 12 यूरो है और यह अगले दिन पहुँचती है।`;

describe('RAG answers with the offline defaults, through real ingestion and workers', () => {
  let cluster: TestCluster;
  let http: HttpClient;
  let organisationId: string;

  beforeAll(async () => {
    cluster = await TestCluster.start({ apis: 1, workers: 1 });
    http = new HttpClient(cluster.api());
    organisationId = await createOrganisation(http, { name: 'Acme Store', industry: 'retail' });
    const [en, hi] = await Promise.all([
      uploadAndWait(http, organisationId, { title: 'Returns and shipping', format: 'markdown', content: POLICY }),
      uploadAndWait(http, organisationId, { title: 'वापसी और शिपिंग', format: 'markdown', content: POLICY_HI }),
    ]);
    expect([en.status, hi.status]).toEqual(['ready', 'ready']);
    expect(en.chunkCount).toBeGreaterThan(0);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function ask(question: string, chatId?: string): Promise<{ done: BotCompleteFrame; client: WsChatClient; chatId: string }> {
    const id = chatId ?? (await http.post<{ id: string }>('/chat/', { userId: 'u1', organisationId })).body.id;
    const client = await WsChatClient.connect(cluster.api(), id);
    client.send({ mt: 'message_upload', message: question, userId: 'u1' });
    const generationId = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
    const done = await client.collector.waitForTerminal(generationId);
    await client.close();
    return { done, client, chatId: id };
  }

  it('answers an English question from the documents, with stage frames and sources', async () => {
    const { done, client, chatId } = await ask('How much does express shipping cost?');
    expect(done.status).toBe('complete');
    expect(done.text).toContain('12 euros');
    expect(done.grounded).toBe(true);
    expect(done.language).toBe('en');
    expect(done.sources[0]).toMatchObject({ title: 'Returns and shipping', cited: true });
    const stages = client.frames.flatMap((f) => (f.mt === 'chat_message_bot_status' ? [f.stage] : []));
    expect(stages).toEqual(['language', 'searching', 'generating']);
    const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    expect(body.items[1]?.sources?.[0]?.documentId).toBe(done.sources[0]?.documentId);
    expect(body.items[1]?.grounded).toBe(true);
  });

  it('answers a Hindi question in Hindi', async () => {
    const { done } = await ask('एक्सप्रेस शिपिंग की कीमत क्या है?');
    expect(done.language).toBe('hi');
    expect(done.text).toContain('12 यूरो');
    expect(done.grounded).toBe(true);
  });

  it.each([
    ['hello', 'en', /Acme Store/],
    ['namaste', 'hi', /[\u0900-\u097F]/],
    ['dhanyavaad', 'hi', /[\u0900-\u097F]/],
    ['thanks a lot!', 'en', /welcome/i],
  ])('auto-replies to %j at once, in the user language', async (text, language, pattern) => {
    const { done, client } = await ask(text);
    expect(done.language).toBe(language);
    expect(done.text).toMatch(pattern);
    expect(done.grounded).toBe(false);
    expect(done.sources).toEqual([]);
    expect(client.frames.some((f) => f.mt === 'chat_message_bot_status' && f.stage === 'searching')).toBe(false);
  });

  it('says plainly, in the user language, when the documents do not cover a question', async () => {
    const { done, chatId } = await ask('Who painted the Mona Lisa?');
    expect(done.grounded).toBe(false);
    expect(done.text).toMatch(/couldn't find/i);
    expect(done.sources).toEqual([]);
    const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    expect(body.items.find((m) => m.role === 'bot')?.grounded).toBe(false);
  });

  it('turns a follow-up into a standalone query with the chat history', async () => {
    const first = await ask('How long does standard shipping take?');
    expect(first.done.text).toContain('3 to 5 working days');
    const followUp = await ask('and express?', first.chatId);
    expect(followUp.done.grounded).toBe(true);
    expect(followUp.done.text).toContain('Express shipping');
  });

  it('ingests a PDF uploaded as application/pdf, and marks a broken one failed with the reason', async () => {
    const org = await createOrganisation(http, { name: 'Paper' });
    const upload = async (bytes: Uint8Array): Promise<DocumentView> => {
      const response = await fetch(`${cluster.api()}/organisations/${org}/documents?title=Warranty`, {
        method: 'POST',
        headers: { 'content-type': 'application/pdf' },
        body: bytes,
      });
      expect(response.status).toBe(202);
      const document = (await response.json()) as DocumentView;
      return waitForDocument(http, org, document.id, document.revision);
    };
    const ready = await upload(minimalPdf(['Every laptop comes with a warranty of 2 years.', 'Batteries are covered for 1 year.']));
    expect(ready).toMatchObject({ status: 'ready', chunkCount: 1 });
    const { body } = await http.post<{ id: string }>('/chat/', { userId: 'u1', organisationId: org });
    const { done } = await ask('How long is the laptop warranty?', body.id);
    expect(done.text).toContain('2 years');

    const broken = await upload(new TextEncoder().encode('%PDF-1.4 this is not really a pdf'));
    expect(broken.status).toBe('failed');
    expect(broken.error).toMatch(/PDF/);
  });

  it('accepts a JSON document far larger than a chat message', async () => {
    const org = await createOrganisation(http, { name: 'Big' });
    const filler = 'This paragraph only fills space. '.repeat(40);
    const content = [...Array.from({ length: 300 }, () => filler), 'The warehouse is in Pune.'].join('\n\n');
    expect(Buffer.byteLength(content)).toBeGreaterThan(300 * 1024);
    const document = await uploadAndWait(http, org, { title: 'Big', content });
    expect(document.status).toBe('ready');
    expect(document.chunkCount).toBeGreaterThan(100);
  });

  it('rejects bad document uploads with a code and stores nothing', async () => {
    const org = await createOrganisation(http, { name: 'Strict' });
    const post = (body: unknown) => http.post<{ code: string }>(`/organisations/${org}/documents`, body);
    expect(await post({ title: 'x', content: '' })).toMatchObject({ status: 400, body: { code: 'invalid_body' } });
    expect(await post({ title: 'x', content: 'text', format: 'pdfx' })).toMatchObject({ status: 400, body: { code: 'invalid_body' } });
    expect(await post({ content: 'no title' })).toMatchObject({ status: 400, body: { code: 'invalid_body' } });
    const unknown = await http.post<{ code: string }>('/organisations/ffffffffffffffffffffffff/documents', { title: 'x', content: 'y' });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'organisation_not_found' } });
    expect(await http.post('/organisations', { industry: 'no name' })).toMatchObject({ status: 400 });
    expect((await http.get<{ items: unknown[] }>(`/organisations/${org}/documents`)).body.items).toEqual([]);
  });

  it('re-uploading a document replaces its chunks, and deleting it removes them from answers', async () => {
    const org = await createOrganisation(http, { name: 'Versioned' });
    const v1 = await uploadAndWait(http, org, {
      title: 'Opening hours',
      content: 'The shop opens at 9 am and closes at 5 pm every weekday.',
    });
    const askOrg = async (question: string): Promise<BotCompleteFrame> => {
      const { body } = await http.post<{ id: string }>('/chat/', { userId: 'u1', organisationId: org });
      return (await ask(question, body.id)).done;
    };
    expect((await askOrg('When does the shop open?')).text).toContain('9 am');

    const v2 = await uploadAndWait(
      http,
      org,
      { title: 'Opening hours', content: 'The shop opens at 10 am and closes at 6 pm every weekday.' },
      v1.id,
    );
    expect(v2.revision).toBe(2);
    const after = await askOrg('When does the shop open?');
    expect(after.text).toContain('10 am');
    expect(after.text).not.toContain('9 am');

    expect((await http.delete(`/organisations/${org}/documents/${v1.id}`)).status).toBe(204);
    expect((await http.get(`/organisations/${org}/documents/${v1.id}`)).status).toBe(404);
    // Deletion removes the chunks and moves the index version at once: the next question no longer finds them.
    const gone = await askOrg('When does the shop open?');
    expect(gone.grounded).toBe(false);
  });
});
