// Every way out a page has, tried towards the listeners named in window.ESCAPE:
// {urls, sockets, ice, webtransport, tryingMs}. Each attempt is noted in window.tried.
const { urls, sockets, ice, webtransport, tryingMs } = window.ESCAPE;
const tried = (window.tried = []);
const attempt = (what, f) => {
  try { f(); tried.push(what); } catch (e) { tried.push(what + ": " + e); }
};
for (const url of urls) {
  attempt("fetch " + url, () => fetch(url + "/fetch", { mode: "no-cors" }).catch(() => {}));
  attempt("image " + url, () => { new Image().src = url + "/image"; });
  attempt("events " + url, () => new EventSource(url + "/events"));
  attempt("beacon " + url, () => navigator.sendBeacon(url + "/beacon", "x"));
}
for (const url of sockets) attempt("socket " + url, () => new WebSocket(url));
attempt("webtransport", () => new WebTransport(webtransport).ready.catch(() => {}));

const peer = RTC => {
  const pc = new RTC({ iceServers: ice, iceCandidatePoolSize: 2 });
  pc.createDataChannel("out");
  pc.onicecandidate = e => e.candidate && tried.push("candidate " + e.candidate.candidate);
  pc.createOffer().then(offer => pc.setLocalDescription(offer));
};
attempt("webrtc", () => peer(RTCPeerConnection));
const frame = document.createElement("iframe");
document.body.append(frame);
attempt("webrtc in an iframe", () => peer(frame.contentWindow.RTCPeerConnection));

const worker = `
  for (const url of ${JSON.stringify(urls)}) fetch(url + "/worker").catch(() => {});
  for (const url of ${JSON.stringify(sockets)}) new WebSocket(url);`;
attempt("worker", () => new Worker(URL.createObjectURL(new Blob([worker]))));

// Busy for tryingMs (the check waits while the DOM changes), so every attempt can send.
const root = document.getElementById("root"), end = performance.now() + tryingMs;
(function busy() {
  if (performance.now() < end) {
    root.dataset.t = performance.now();
    requestAnimationFrame(busy);
  }
})();
