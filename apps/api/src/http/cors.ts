import type { RequestHandler } from 'express';

/** Browser clients of customer sites call the API from other origins. */
export function cors(origin: string): RequestHandler {
  return (req, res, next) => {
    res.setHeader('access-control-allow-origin', origin === '*' ? '*' : (req.get('origin') ?? ''));
    res.setHeader('access-control-allow-methods', 'GET,POST,PUT,DELETE,OPTIONS');
    res.setHeader('access-control-allow-headers', 'authorization,content-type,last-event-id');
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}
