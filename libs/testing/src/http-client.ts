export interface HttpResult<T = unknown> {
  status: number;
  body: T;
}

/** JSON over HTTP against one API node; with a token, every request carries `Authorization: Bearer`. */
export class HttpClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  /** The same node, as the user of `token`. */
  as(token: string): HttpClient {
    return new HttpClient(this.baseUrl, token);
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, rawBody?: string): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    const init: RequestInit = { method, headers };
    if (rawBody !== undefined) init.body = rawBody;
    else if (body !== undefined) init.body = JSON.stringify(body);
    const response = await fetch(`${this.baseUrl}${path}`, init);
    const text = await response.text();
    return { status: response.status, body: (text.length > 0 ? JSON.parse(text) : undefined) as T };
  }

  get<T = unknown>(path: string): Promise<HttpResult<T>> {
    return this.request<T>('GET', path);
  }
  post<T = unknown>(path: string, body?: unknown): Promise<HttpResult<T>> {
    return this.request<T>('POST', path, body);
  }
  put<T = unknown>(path: string, body?: unknown): Promise<HttpResult<T>> {
    return this.request<T>('PUT', path, body);
  }
  delete<T = unknown>(path: string): Promise<HttpResult<T>> {
    return this.request<T>('DELETE', path);
  }

  /** Creates a chat and returns its id. */
  async createChat(userId = 'user-1'): Promise<string> {
    const { status, body } = await this.post<{ id: string }>('/chat/', { userId });
    if (status !== 201) throw new Error(`create chat: ${status} ${JSON.stringify(body)}`);
    return body.id;
  }
}
