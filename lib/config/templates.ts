import * as z from 'zod';
import { TITLE_PLACEHOLDERS } from '../notify/render/job-facts.ts';
import { checkDestinationUrl } from './url-rules.ts';

export const CONSOLE_URL_PLACEHOLDERS = ['region', 'project_id', 'job_id', 'queue_name'] as const;

/** Which placeholders a template uses, written as in it: `{job_id}`. */
function placeholdersIn(template: string): Set<string> {
  return new Set(template.match(/\{[^{}]*\}/g) ?? []);
}

function unknownPlaceholderMessage(placeholder: string, known: readonly string[]): string {
  return `unknown placeholder ${placeholder}; the placeholders are ${known.map((name) => `{${name}}`).join(', ')}`;
}

export const consoleUrlSchema = z.string({ error: 'must be a string' }).superRefine((text, context) => {
  for (const placeholder of placeholdersIn(text)) {
    if (!(CONSOLE_URL_PLACEHOLDERS as readonly string[]).includes(placeholder.slice(1, -1))) {
      context.addIssue({
        code: 'custom',
        message: unknownPlaceholderMessage(placeholder, CONSOLE_URL_PLACEHOLDERS),
      });
    }
  }
  // Placeholders may stand anywhere, even in the host; check the URL they would produce.
  checkDestinationUrl(text.replace(/\{[^{}]*\}/g, 'x'), context);
});

export const titleSchema = z.string({ error: 'must be a string' }).superRefine((text, context) => {
  if (text.trim() === '') {
    context.addIssue({ code: 'custom', message: 'must not be empty (leave it out for the default title)' });
  }
  for (const placeholder of placeholdersIn(text)) {
    if (!(TITLE_PLACEHOLDERS as readonly string[]).includes(placeholder.slice(1, -1))) {
      context.addIssue({
        code: 'custom',
        message: unknownPlaceholderMessage(placeholder, TITLE_PLACEHOLDERS),
      });
    }
  }
});
