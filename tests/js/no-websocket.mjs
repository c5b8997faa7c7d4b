// Preloaded (node --import) to run a script as if on a Node without a global WebSocket and
// without the optional "ws" package.
import { register } from "node:module";

delete globalThis.WebSocket;
const hook = `export async function resolve(specifier, context, next) {
  if (specifier === "ws") throw Object.assign(new Error("Cannot find package 'ws'"), { code: "ERR_MODULE_NOT_FOUND" });
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
