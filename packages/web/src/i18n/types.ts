/** A feature's strings: the same keys in every language (a test checks it). */
export type StringTree = { [key: string]: string | StringTree };
export interface Strings {
  en: StringTree;
  zh: StringTree;
}
