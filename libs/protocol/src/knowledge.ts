import { z } from 'zod';

export const SUPPORTED_LANGUAGES = ['en', 'hi'] as const;
export const supportedLanguageSchema = z.enum(SUPPORTED_LANGUAGES);

export const DOCUMENT_FORMATS = ['text', 'markdown', 'html', 'pdf'] as const;
export const documentFormatSchema = z.enum(DOCUMENT_FORMATS);
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

/** Largest document accepted for upload, in UTF-8 bytes. */
export const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;

export const organisationBodySchema = z.object({
  name: z.string().min(1).max(200),
  industry: z.string().max(200).optional(),
  description: z.string().max(4000).optional(),
  tone: z.string().max(500).optional(),
  defaultLanguage: supportedLanguageSchema.optional(),
});
export type OrganisationBody = z.infer<typeof organisationBodySchema>;

export const organisationPatchSchema = organisationBodySchema.partial();
export type OrganisationPatch = z.infer<typeof organisationPatchSchema>;

export const documentUploadBodySchema = z
  .object({
    title: z.string().min(1).max(500),
    format: documentFormatSchema.default('text'),
    /** The text, or for a PDF its bytes in base64. */
    content: z.string().min(1, 'content must not be empty'),
  })
  .refine((body) => body.format !== 'pdf' || /^[A-Za-z0-9+/]+={0,2}$/.test(body.content), {
    message: 'a pdf document is sent as base64',
    path: ['content'],
  });
export type DocumentUploadBody = z.infer<typeof documentUploadBodySchema>;

/** Content types accepted as a raw upload body, and the format each means. */
export const FORMAT_BY_CONTENT_TYPE: Record<string, (typeof DOCUMENT_FORMATS)[number]> = {
  'text/plain': 'text',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/html': 'html',
  'application/pdf': 'pdf',
};
