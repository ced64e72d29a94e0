// Types for the parts of the `radius` package (1.1, CommonJS, ships no types and has no @types
// package) that Tollgate uses: dictionary loading, attribute decoding and packet encoding. The
// authenticators are computed in radius-codec.ts, not by the package (see there why).

declare module 'radius' {
  /** A decoded attribute value: text, a number, an enumerated name, a date or raw octets. */
  export type AttributeValue = string | number | Date | Buffer;

  /** `[name, value]`, or `['Vendor-Specific', vendor, [[name, value], ...]]`. */
  export type Attribute =
    | readonly [string | number, AttributeValue]
    | readonly [
        'Vendor-Specific',
        string | number,
        ReadonlyArray<readonly [string | number, AttributeValue]>,
      ];

  export interface DecodedPacket {
    readonly code: string;
    readonly identifier: number;
    readonly length: number;
    readonly authenticator: Buffer;
    /** By dictionary name; a repeated attribute becomes an array; VSAs under `Vendor-Specific`. */
    readonly attributes: Readonly<Record<string, unknown>>;
    readonly raw_attributes: ReadonlyArray<readonly [number, Buffer]>;
  }

  interface Radius {
    decode_without_secret(args: { packet: Buffer }): DecodedPacket;
    encode(args: {
      code: string;
      secret: string;
      identifier: number;
      authenticator?: Buffer;
      attributes: readonly Attribute[];
      add_message_authenticator?: boolean;
    }): Buffer;
    load_dictionaries(): void;
    /** Parses dictionary text (FreeRADIUS format) into the loaded dictionaries. */
    _load_dictionary(content: string): string[];
  }

  const radius: Radius;
  export default radius;
}
