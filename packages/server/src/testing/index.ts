/**
 * The server's test support other packages' tests share (`@openbms/server/testing`, resolved
 * by vitest and the test tsconfigs only; never built): the real SMTP server for mailed codes.
 */
export { codeIn, smtpServer, type Mail } from './smtp.js';
