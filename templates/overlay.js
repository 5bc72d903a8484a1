/* Stage runtime overlay: shows uncaught errors and unhandled rejections in the page,
 * mapped to the file and line as pushed through the bundle's source map when it can be
 * fetched (not from file://). Loaded before the app bundle; it never throws itself. */
(function () {
  "use strict";
  var box = null;
  var list = null;
  var maps = {};
  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  function show(message, where) {
    if (!box) {
      box = document.createElement("section");
      box.id = "stage-error-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;left:0;right:0;bottom:0;max-height:60vh;overflow:auto;" +
        "z-index:2147483647;margin:0;padding:12px 16px;background:#111827;color:#f9fafb;" +
        "font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;border-top:4px solid #ef4444";
      var title = document.createElement("strong");
      title.textContent = "This preview hit an error";
      list = document.createElement("ol");
      list.style.cssText = "margin:8px 0 0;padding-left:20px";
      box.appendChild(title);
      box.appendChild(list);
      (document.body || document.documentElement).appendChild(box);
    }
    var item = document.createElement("li");
    var text = document.createElement("div");
    text.className = "stage-error-message";
    text.textContent = message;
    item.appendChild(text);
    if (where) {
      var place = document.createElement("div");
      place.className = "stage-error-location";
      place.style.color = "#fca5a5";
      place.textContent = "at " + where;
      item.appendChild(place);
    }
    list.appendChild(item);
  }

  function decodeVlq(segment) {
    var values = [], shift = 0, value = 0;
    for (var i = 0; i < segment.length; i++) {
      var digit = B64.indexOf(segment.charAt(i));
      value += (digit & 31) << shift;
      if (digit & 32) { shift += 5; continue; }
      values.push(value & 1 ? -(value >> 1) : value >> 1);
      shift = 0; value = 0;
    }
    return values;
  }

  // Generated line and column (1-based) to {source, line} through a v3 source map.
  function lookup(map, line, column) {
    var lines = map.mappings.split(";");
    var src = 0, origLine = 0, best = null;
    for (var l = 0; l < lines.length && l < line; l++) {
      var col = 0;
      var segments = lines[l] ? lines[l].split(",") : [];
      for (var s = 0; s < segments.length; s++) {
        var v = decodeVlq(segments[s]);
        col += v[0];
        if (v.length >= 4) {
          src += v[1]; origLine += v[2];
          if (l === line - 1 && col <= column - 1) best = { source: map.sources[src], line: origLine + 1 };
        }
      }
    }
    return best;
  }

  function frame(error) {
    var stack = error && error.stack ? String(error.stack) : "";
    var match = /(https?:\/\/[^\s)]+|file:\/\/[^\s)]+):(\d+):(\d+)/.exec(stack);
    return match ? { file: match[1], line: +match[2], column: +match[3] } : null;
  }

  function report(message, where) {
    if (!where || !/\.js$/.test(where.file)) {
      show(message, where ? where.file + ":" + where.line + ":" + where.column : "");
      return;
    }
    var raw = where.file + ":" + where.line + ":" + where.column;
    var url = where.file + ".map";
    if (!maps[url]) {
      maps[url] = fetch(url).then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; });
    }
    maps[url].then(function (map) {
      var original = map && lookup(map, where.line, where.column);
      show(message, original ? original.source + ":" + original.line : raw);
    }, function () { show(message, raw); });
  }

  window.addEventListener("error", function (event) {
    var where = frame(event.error) ||
      (event.filename ? { file: event.filename, line: event.lineno, column: event.colno } : null);
    report(event.error && event.error.message ? event.error.name + ": " + event.error.message
      : String(event.message), where);
  });
  window.addEventListener("unhandledrejection", function (event) {
    var reason = event.reason;
    var message = reason && reason.message ? reason.name + ": " + reason.message : String(reason);
    report("Unhandled promise rejection: " + message, frame(reason));
  });
})();
