import type { Api, Principal } from './api.js';

/** What every view gets: the API with the agent's token, who they are, and where to draw. */
export interface Session { readonly api: Api; readonly me: Principal; readonly main: HTMLElement }
