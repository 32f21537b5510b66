import type { Catalogue, Language } from './catalogue.ts';
import { EN } from './catalogue-en.ts';
import { ZH_CN } from './catalogue-zh-cn.ts';

const CATALOGUES: Record<Language, Catalogue> = { en: EN, 'zh-CN': ZH_CN };

/** The catalogue of `language` (English when absent). */
export function catalogueFor(language: Language | undefined): Catalogue {
  return CATALOGUES[language ?? 'en'];
}
