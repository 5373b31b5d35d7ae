/**
 * The widget's Socket.IO protocol, shared by the server (server/realtime/widget) and the browser
 * (client/widget). Types and constants only: nothing here may import server code, so the client
 * bundle can include it. Payloads are validated on the server by ./schemas.ts.
 */

export const WIDGET_NAMESPACE = '/widget';

/** Roles as stored (server/db/models/conversation.ts). */
export type WidgetRole = 'customer' | 'agent' | 'bot';

/** bot: the bot answers; waiting: a person was asked for; human: an agent answers; closed. */
export type ConversationMode = 'bot' | 'waiting' | 'human' | 'closed';

/**
 * Why the bot stopped answering: the visitor asked for a person, a reply's confidence was below
 * the site's threshold, an agent took over, or no model could answer.
 */
export type HandoffReason = 'requested' | 'low_confidence' | 'agent' | 'bot_unavailable';

/** Sent in the Socket.IO handshake (`io(url, { auth })`). */
export interface WidgetAuth {
  /** The site's public key (the embed snippet's data-site-key). */
  siteKey: string;
  /** The signed visitor token from an earlier `session` event; absent on a first visit. */
  token?: string | null;
  /** The browser's preferred languages, most preferred first (navigator.languages). */
  locales?: string[];
}

/** Why a connection was refused: `connect_error`'s `data.code`; its `message` is readable English. */
export type ConnectRefusal =
  | 'missing_site_key'
  /** A site key, but locales or token of the wrong shape. */
  | 'invalid_handshake'
  | 'unknown_site_key'
  | 'origin_not_allowed'
  | 'rate_limited'
  | 'site_disabled';

export interface WidgetMessage {
  id: string;
  /** The id the widget gave a visitor's message; null for bot and agent messages. */
  clientMessageId: string | null;
  role: WidgetRole;
  /** Plain text: render it as text, never as HTML. */
  text: string;
  /** ISO 8601. */
  ts: string;
  /** An agent's display name, for agent messages. */
  authorName: string | null;
}

export interface WidgetTheme {
  /** Launcher, header and the visitor's bubbles (CSS color). */
  primaryColor: string;
  /** Text on primaryColor. */
  primaryTextColor: string;
  /** Panel background. */
  backgroundColor: string;
  /** Panel text. */
  textColor: string;
  position: 'right' | 'left';
  launcherIcon: 'chat' | 'help' | 'headset';
  /** CSS font-family list; the widget never loads web fonts itself. */
  fontFamily: string;
}

/** Every string the widget shows, in one language. */
export interface WidgetTexts {
  title: string;
  greeting: string;
  placeholder: string;
  send: string;
  openLabel: string;
  closeLabel: string;
  /** The button that asks for a person while the bot answers. */
  askForPerson: string;
  /** Shown while waiting for a person and agents are online. */
  handoffWaiting: string;
  /** Shown when an agent takes over. */
  handoffJoined: string;
  /** Shown when a person was asked for and no agent is online. */
  offline: string;
  emailLabel: string;
  emailSubmit: string;
  emailThanks: string;
  typing: string;
  connectionLost: string;
  reconnected: string;
  /** Shown when the connection is refused; the reason follows. */
  unavailable: string;
  messageTooLong: string;
  rateLimited: string;
  botLabel: string;
  agentLabel: string;
  youLabel: string;
}

/** What the widget needs to draw itself, texts already resolved for the visitor's locale. */
export interface WidgetSiteConfig {
  name: string;
  locale: string;
  theme: WidgetTheme;
  texts: WidgetTexts;
  /** Longest message the server accepts, in characters. */
  maxMessageChars: number;
}

/**
 * How the launcher looks before any chat: GET /widget/look?key=KEY&locales=fr-CA,en answers it
 * (public, like the key), so a first visit shows the site's colours and language at once.
 */
export type WidgetLook = Pick<WidgetSiteConfig, 'locale' | 'theme' | 'texts'>;

/** Sent on every (re)connection: who the visitor is and the whole open conversation. */
export interface WidgetSession {
  /** Store it (localStorage) and send it back in the handshake to resume this conversation. */
  token: string;
  conversationId: string;
  mode: ConversationMode;
  handoffReason: HandoffReason | null;
  agentsOnline: boolean;
  messages: WidgetMessage[];
  site: WidgetSiteConfig;
}

export interface ReplyStart {
  replyId: string;
}

export interface ReplyToken {
  replyId: string;
  delta: string;
}

export interface ReplyEnd {
  replyId: string;
  /** The stored reply; null when no reply was stored (the model failed or was stopped). */
  message: WidgetMessage | null;
}

export interface HandoffState {
  mode: ConversationMode;
  reason: HandoffReason | null;
  agentsOnline: boolean;
}

/** Error ids an ack may carry. */
export type WidgetErrorId =
  | 'invalid_payload'
  | 'message_too_long'
  | 'rate_limited'
  | 'conversation_closed'
  | 'internal';

export type Ack<T extends object = object> =
  | ({ ok: true } & T)
  | { ok: false; error: WidgetErrorId; message: string };

export interface SendMessage {
  /** Unique per message (a UUID): resending the same id stores the message once. */
  clientMessageId: string;
  text: string;
}

export interface SendMessageResult {
  message: WidgetMessage;
  /** True when this id was already stored; no new reply is generated. */
  duplicate: boolean;
}

export interface LeaveContact {
  email: string;
}

export interface Identify {
  name?: string;
  email?: string;
}

export interface WidgetServerToClient {
  session: (session: WidgetSession) => void;
  /** A stored message the visitor has not seen from this socket (an agent's, or its own from another tab). */
  message: (message: WidgetMessage) => void;
  /** The bot started a reply: show a typing indicator until the first token. */
  'reply:start': (event: ReplyStart) => void;
  'reply:token': (event: ReplyToken) => void;
  'reply:end': (event: ReplyEnd) => void;
  handoff: (state: HandoffState) => void;
}

export interface WidgetClientToServer {
  'message:send': (payload: SendMessage, ack: (result: Ack<SendMessageResult>) => void) => void;
  'handoff:request': (
    payload: Record<string, never>,
    ack: (result: Ack<{ state: HandoffState }>) => void,
  ) => void;
  /** Offline case: an email to be answered at. Kept apart from the conversation, never trained on. */
  'contact:leave': (payload: LeaveContact, ack: (result: Ack) => void) => void;
  /** From `Parley.identify()`: kept apart from the conversation, never trained on. */
  'visitor:identify': (payload: Identify, ack: (result: Ack) => void) => void;
}
