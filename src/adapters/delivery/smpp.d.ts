// Types for the parts of the `smpp` package (0.5, CommonJS, ships no types and has no
// @types package) that Tollgate uses: client sessions, the server used by tests, PDUs and the
// command_status table. Field names follow the SMPP specification, as the package does.

declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  /** A request or response. Fields are the SMPP parameter names (destination_addr, ...). */
  export interface Pdu {
    readonly command: string;
    readonly command_status: number;
    readonly sequence_number: number;
    readonly [field: string]: unknown;
    isResponse(): boolean;
    /** The response to this request; `generic_nack` for an unknown command. */
    response(fields?: Readonly<Record<string, unknown>>): Pdu;
  }

  export type PduCallback = (pdu: Pdu) => void;
  export type PduFields = Readonly<Record<string, unknown>>;

  /** One SMPP connection, client or server side. Emits 'connect', 'secureConnect', 'close',
   * 'error', 'pdu' and one event per command name ('submit_sm', 'enquire_link', ...). */
  export interface Session extends EventEmitter {
    readonly socket: Socket;
    /** False when the socket is not writable; the callbacks are then never called. */
    send(pdu: Pdu, responseCallback?: PduCallback, sendCallback?: PduCallback): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    bind_transceiver(fields: PduFields, responseCallback?: PduCallback): boolean;
    submit_sm(fields: PduFields, responseCallback?: PduCallback): boolean;
    unbind(fields: PduFields, responseCallback?: PduCallback): boolean;
    enquire_link(fields: PduFields, responseCallback?: PduCallback): boolean;
  }

  export interface Server extends NetServer {
    readonly sessions: Session[];
  }

  export interface ConnectOptions {
    readonly host: string;
    readonly port: number;
    /** Use TLS ("ssmpp"); the session then emits 'secureConnect' when ready. */
    readonly tls?: boolean;
    /** Sends enquire_link every this many ms, keeping idle binds alive through firewalls. */
    readonly auto_enquire_link_period?: number;
    readonly [option: string]: unknown;
  }

  interface Smpp {
    connect(options: ConnectOptions, listener?: () => void): Session;
    createServer(listener: (session: Session) => void): Server;
    createServer(
      options: Readonly<Record<string, unknown>>,
      listener: (session: Session) => void,
    ): Server;
    /** command_status values by name: ESME_ROK, ESME_RTHROTTLED, ... */
    readonly errors: Readonly<Record<string, number>>;
  }

  const smpp: Smpp;
  export default smpp;
}
