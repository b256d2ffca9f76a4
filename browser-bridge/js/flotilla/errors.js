// Errors the library throws. Every error it throws on bad input is a
// FlotillaError: match the class with instanceof, or read `reason` (the
// class's fixed word) and `code` (what exactly was wrong).

/**
 * Base class of every error the library throws for bad input.
 * `reason` is one of "malformed", "checksum", "missing-baseline", "schema";
 * `code` names the precise rule that failed (see README.md, "Errors").
 */
export class FlotillaError extends Error {
  /**
   * @param {string} reason the class's reason word.
   * @param {string} code the rule that failed.
   * @param {string} message a human-readable detail.
   */
  constructor(reason, code, message) {
    super(`flotilla: ${reason} (${code}): ${message}`);
    this.name = new.target.name;
    /** @type {string} */
    this.reason = reason;
    /** @type {string} */
    this.code = code;
  }
}

/**
 * The input breaks the wire format or contradicts its baseline: truncated,
 * out of range, unknown kind, bad padding, trailing bytes, a bad head
 * (STANDARD.md 2.8 rules 1 and 3 to 9, and 11; 4.2).
 */
export class MalformedError extends FlotillaError {
  /**
   * @param {string} code the rule that failed.
   * @param {string} message detail.
   */
  constructor(code, message) {
    super('malformed', code, message);
  }
}

/**
 * The rebuilt view does not hash to the checksum the sender sent
 * (STANDARD.md 2.7, 2.8 rule 10): the receiver's baseline differs from the
 * sender's. The view must be discarded and the snapshot not acknowledged.
 */
export class ChecksumError extends FlotillaError {
  /**
   * @param {number} want the checksum in the snapshot.
   * @param {number} got the checksum of the rebuilt view.
   */
  constructor(want, got) {
    super('checksum', 'checksum', `snapshot says ${hex8(want)}, rebuilt view hashes to ${hex8(got)}`);
    /** @type {number} */
    this.want = want;
    /** @type {number} */
    this.got = got;
  }
}

/**
 * A delta (or heartbeat) arrived and the receiver does not hold its
 * baseline (STANDARD.md 2.8 rule 2, 4.2).
 */
export class MissingBaselineError extends FlotillaError {
  /** @param {string} message detail. */
  constructor(message) {
    super('missing-baseline', 'missing-baseline', message);
  }
}

/**
 * A schema description is refused (STANDARD.md 2.1): bad JSON, another
 * version, an unknown key, a wrong type, a width that disagrees with its
 * range, a bad tier list, or (code "hash") a hash other than the schema's.
 */
export class SchemaError extends FlotillaError {
  /**
   * @param {string} code the rule that failed.
   * @param {string} message detail.
   */
  constructor(code, message) {
    super('schema', code, message);
  }
}

function hex8(x) {
  return (x >>> 0).toString(16).padStart(8, '0');
}
