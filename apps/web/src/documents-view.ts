import { organisationId, rememberOrganisation } from './identity.ts';
import { type DocumentFormat, type KnowledgeDocument, rest } from './rest-client.ts';

const POLL_MS = 1000;

function formatOf(file: File): DocumentFormat {
  const name = file.name.toLowerCase();
  if (name.endsWith('.pdf') || file.type === 'application/pdf') return 'pdf';
  if (/\.html?$/.test(name) || file.type === 'text/html') return 'html';
  if (/\.(md|markdown)$/.test(name) || file.type === 'text/markdown') return 'markdown';
  return 'text';
}

/** PDFs travel in base64 inside the JSON body (see the documents API). */
async function contentOf(file: File, format: DocumentFormat): Promise<string> {
  if (format !== 'pdf') return file.text();
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The documents of the chosen organisation: upload, watch ingestion, delete. */
export class DocumentsView {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly select: HTMLSelectElement,
    private readonly form: HTMLFormElement,
    private readonly fileInput: HTMLInputElement,
    private readonly status: HTMLElement,
    private readonly list: HTMLElement,
  ) {
    select.addEventListener('change', () => {
      rememberOrganisation(select.value);
      void this.refresh();
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.upload();
    });
  }

  async start(): Promise<void> {
    const organisations = await rest.listOrganisations();
    const chosen = organisationId();
    this.select.replaceChildren(
      ...organisations.map((org) => {
        const option = document.createElement('option');
        option.value = org.id;
        option.textContent = org.name;
        option.selected = org.id === chosen;
        return option;
      }),
    );
    await this.refresh();
  }

  private async upload(): Promise<void> {
    const file = this.fileInput.files?.[0];
    if (!file) {
      this.status.textContent = 'Choose a file first.';
      return;
    }
    const format = formatOf(file);
    this.status.textContent = `Uploading ${file.name}…`;
    try {
      await rest.uploadDocument(this.select.value, file.name, format, await contentOf(file, format));
      this.status.textContent = `${file.name} uploaded; it is being indexed.`;
      this.form.reset();
    } catch (err) {
      this.status.textContent = `Upload failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    clearTimeout(this.timer);
    let documents: KnowledgeDocument[];
    try {
      documents = await rest.listDocuments(this.select.value);
    } catch (err) {
      this.status.textContent = `Could not list the documents: ${err instanceof Error ? err.message : String(err)}`;
      return;
    }
    this.list.replaceChildren(...documents.map((doc) => this.item(doc)));
    // Ingestion runs on the workers; poll while some document is still on its way.
    if (documents.some((doc) => doc.status === 'queued' || doc.status === 'processing')) {
      this.timer = setTimeout(() => void this.refresh(), POLL_MS);
    }
  }

  private item(doc: KnowledgeDocument): HTMLLIElement {
    const item = document.createElement('li');
    item.className = `document ${doc.status}`;
    item.dataset['documentId'] = doc.id;
    const title = document.createElement('span');
    title.className = 'document-title';
    title.textContent = doc.title;
    const state = document.createElement('span');
    state.className = 'document-status';
    state.textContent =
      doc.status === 'failed'
        ? `failed: ${doc.error ?? 'unknown error'}`
        : doc.status === 'ready'
          ? 'ready'
          : `${doc.status} ${doc.progress}%`;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Delete';
    remove.setAttribute('aria-label', `Delete document ${doc.title}`);
    remove.addEventListener('click', () => {
      void rest
        .deleteDocument(this.select.value, doc.id)
        .then(() => this.refresh())
        .catch((err: unknown) => {
          this.status.textContent = `Delete failed: ${err instanceof Error ? err.message : String(err)}`;
        });
    });
    item.append(title, ' ', state, ' ', remove);
    return item;
  }
}
