// PLACEHOLDER: the proxy area (issue 4) replaces this file.
import type { ProxyAdapter } from "../proxy_types.ts";
export const copilotProxy: ProxyAdapter = {};
