// The package's entry point under Node (the "node" condition of package.json's exports):
// wsrpc.mjs with node:fs/promises' readFile for the file: URLs of wsrpc.wasm (and of
// wasm_exec.js, when load() is given one). Kept apart so that wsrpc.mjs, what browsers and
// bundlers for browsers get, imports nothing from node:.
import { readFile } from "node:fs/promises";
import { _setFileReader } from "./wsrpc.mjs";

_setFileReader(readFile);

export { connect, load, version, Client, Batch, RpcError } from "./wsrpc.mjs";
export { default } from "./wsrpc.mjs";
