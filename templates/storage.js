/* Stage runtime: window.storage, the persistent key-value API Claude's saved artifacts use
 * (get, set, delete, list; string values; every call returns a Promise), kept in this
 * browser's localStorage under the session's id, so two previews served from one origin
 * never see each other's keys and a reload finds what was saved. "Shared" keys (shared
 * between an artifact's users in Claude) are a second namespace in the same browser.
 * Loaded before the app bundle; an app that defines its own window.storage replaces it. */
(function () {
  "use strict";
  var MAX_KEY = 200;
  var MAX_VALUE = 5 * 1024 * 1024;
  var config = window.__STAGE__ || {};
  var scope = "stage-storage:" + (config.sessionId || "local") + ":";
  var backing = null;
  try {
    backing = window.localStorage;
    backing.getItem(scope);
  } catch (error) {
    backing = null; // storage blocked (opaque origin, privacy settings): kept for this page only
  }
  var memory = {};

  function namespace(shared) {
    return scope + (shared ? "shared:" : "personal:");
  }
  function read(name) {
    if (backing) return backing.getItem(name);
    return Object.prototype.hasOwnProperty.call(memory, name) ? memory[name] : null;
  }
  function write(name, value) {
    if (backing) backing.setItem(name, value);
    else memory[name] = value;
  }
  function remove(name) {
    if (backing) backing.removeItem(name);
    else delete memory[name];
  }
  function names() {
    if (!backing) return Object.keys(memory);
    var all = [];
    for (var i = 0; i < backing.length; i++) all.push(backing.key(i));
    return all;
  }
  function checkKey(key) {
    if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY) {
      throw new TypeError("window.storage: a key is a string of 1 to " + MAX_KEY +
                          " characters, got " + JSON.stringify(key));
    }
  }
  function later(work) {
    return new Promise(function (resolve) { resolve(work()); });
  }

  window.storage = {
    get: function (key, shared) {
      return later(function () {
        checkKey(key);
        var value = read(namespace(shared) + key);
        return value === null ? null : { key: key, value: value, shared: !!shared };
      });
    },
    set: function (key, value, shared) {
      return later(function () {
        checkKey(key);
        if (typeof value !== "string") {
          throw new TypeError("window.storage.set: values are strings (JSON.stringify " +
                              "objects first), got " + typeof value);
        }
        if (value.length > MAX_VALUE) {
          throw new RangeError("window.storage.set: a value holds at most " + MAX_VALUE +
                               " characters");
        }
        write(namespace(shared) + key, value);
        return { key: key, value: value, shared: !!shared };
      });
    },
    delete: function (key, shared) {
      return later(function () {
        checkKey(key);
        var name = namespace(shared) + key;
        var existed = read(name) !== null;
        remove(name);
        return { key: key, deleted: existed, shared: !!shared };
      });
    },
    list: function (prefix, shared) {
      return later(function () {
        var start = namespace(shared) + (prefix || "");
        var keys = names().filter(function (name) { return name.indexOf(start) === 0; })
          .map(function (name) { return name.slice(namespace(shared).length); }).sort();
        var result = { keys: keys, shared: !!shared };
        if (prefix) result.prefix = prefix;
        return result;
      });
    },
  };
})();
