/**
 * i18next with every string bundled (no fetching): switching language re-renders at once,
 * no reload. The choice is remembered in localStorage; the first visit follows the browser.
 */
import i18next, { type Resource } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { NAMESPACES } from './resources';

export const LANGUAGES = [
  { id: 'en', label: 'English' },
  { id: 'zh', label: '中文' },
] as const;
export type Lang = (typeof LANGUAGES)[number]['id'];

const KEY = 'openbms.lang';

function initialLang(): Lang {
  const saved = localStorage.getItem(KEY);
  if (saved === 'en' || saved === 'zh') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function setLanguage(lang: Lang): void {
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  void i18next.changeLanguage(lang);
}

export function initI18n(): typeof i18next {
  const resources: Resource = { en: {}, zh: {} };
  for (const [ns, s] of Object.entries(NAMESPACES)) {
    resources.en![ns] = s.en;
    resources.zh![ns] = s.zh;
  }
  const lng = initialLang();
  document.documentElement.lang = lng === 'zh' ? 'zh-CN' : 'en';
  void i18next.use(initReactI18next).init({
    resources,
    lng,
    fallbackLng: 'en',
    defaultNS: 'common',
    ns: Object.keys(NAMESPACES),
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return i18next;
}
