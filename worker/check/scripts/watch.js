// Installed before any page script: when the DOM last changed, which short timers are
// still due, which uncaught errors were rejections (Chromium reports both as page errors),
// and ``settle(ms, limit)``, which resolves true once the page is quiet for ``ms`` (false at
// ``limit``), looked at every frame. Quiet: no short timer due, no DOM change for ``ms``,
// and no CSS animation or transition still running that will end (a fade-in is pictured
// once it is in; a spinner never ends). A timer that fires counts as a change (what it
// starts comes just after); one set inside a timer's callback is a poll (react-dom re-arms
// one forever), not waited for. What it uses is taken before the page can replace it.
// Evaluated as an expression and called with the timer horizon in milliseconds.
(horizon => {
  const now = performance.now.bind(performance), frame = requestAnimationFrame.bind(window);
  const animations = document.getAnimations.bind(document);
  const state = { lastChange: now(), rejections: [], timers: new Set() };
  new MutationObserver(() => { state.lastChange = now(); })
    .observe(document, { subtree: true, childList: true, attributes: true,
                         characterData: true });
  addEventListener("unhandledrejection", event => {
    const reason = event.reason;
    state.rejections.push(reason instanceof Error ? reason.message : String(reason));
  });
  const set = window.setTimeout, clear = window.clearTimeout;
  let inTimer = false;
  window.setTimeout = function (handler, delay, ...args) {
    if (typeof handler !== "function") return set.call(this, handler, delay, ...args);
    const waited = !inTimer && Number(delay ?? 0) <= horizon;
    const id = set.call(this, function () {
      if (waited) {
        state.timers.delete(id);
        state.lastChange = now();
      }
      const outer = inTimer;
      inTimer = true;
      try { return handler.apply(this, arguments); } finally { inTimer = outer; }
    }, delay, ...args);
    if (waited) state.timers.add(id);
    return id;
  };
  window.clearTimeout = function (id) {
    state.timers.delete(id);
    return clear.call(this, id);
  };
  const ending = a => a.playState === "running" && a.effect !== null &&
                      isFinite(a.effect.getComputedTiming().endTime);
  const quiet = ms => state.timers.size === 0 && now() - state.lastChange >= ms &&
                      !animations().some(ending);
  const settle = (ms, limit) => new Promise(resolve => {
    const start = now();
    const look = () => quiet(ms) ? resolve(true) : now() - start >= limit ? resolve(false)
                                                                           : frame(look);
    look();
  });
  Object.defineProperty(window, "__stageCheck", { value: Object.freeze({ state, settle }) });
})
