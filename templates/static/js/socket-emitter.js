// socket-emitter.js: the event emitter of socket.js and socket-engine.js (issue 9, item 9).

/** Emitter is a small event emitter: on/once/off for listeners, _emitLocal to fire. */
export class Emitter {
  #listeners;

  constructor() {
    this.#listeners = new Map();
  }

  /** on adds fn for event and returns this. */
  on(event, fn) {
    let list = this.#listeners.get(event);
    if (!list) this.#listeners.set(event, (list = []));
    list.push(fn);
    return this;
  }

  /** once adds fn for the next event only. */
  once(event, fn) {
    const wrapper = (...args) => {
      this.off(event, wrapper);
      fn.apply(this, args);
    };
    wrapper.fn = fn;
    return this.on(event, wrapper);
  }

  /** off removes fn for event; without fn every listener of event; without event all of them. */
  off(event, fn) {
    if (event === undefined) {
      this.#listeners.clear();
      return this;
    }
    const list = this.#listeners.get(event);
    if (!list) return this;
    if (fn === undefined) {
      this.#listeners.delete(event);
      return this;
    }
    const i = list.findIndex((l) => l === fn || l.fn === fn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  /** listeners returns a copy of event's listeners. */
  listeners(event) {
    return (this.#listeners.get(event) || []).map((l) => l.fn || l);
  }

  /** hasListeners reports whether event has a listener. */
  hasListeners(event) {
    return this.#listeners.has(event);
  }

  // _emitLocal calls event's listeners. A listener that throws does not stop the others nor the
  // caller's state machine: its error is rethrown on its own (an uncaught error in the console).
  _emitLocal(event, ...args) {
    const list = this.#listeners.get(event);
    if (!list) return false;
    for (const fn of list.slice()) {
      try {
        fn.apply(this, args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    return true;
  }
}
