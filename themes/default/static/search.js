/* casebook search: fetches only the index files a query needs (see src/search.rs). */
(function () {
  "use strict";
  var form = document.getElementById("cb-search");
  if (!form || !window.fetch) return;
  var base = form.getAttribute("data-index");
  var status = document.getElementById("cb-search-status");
  var list = document.getElementById("cb-search-results");
  var more = document.getElementById("cb-search-more");
  var STOP = ["an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "its", "of", "on", "or", "that", "the", "their", "this", "to", "was", "were", "which", "with"];
  var FACETS = ["city", "theme", "kind", "stage"];
  var PAGE = 10;
  var cache = {};
  var results = [];
  var shown = 0;
  var run = 0;

  function get(name) {
    if (!cache[name]) {
      cache[name] = fetch(base + name).then(function (r) {
        if (!r.ok) throw new Error(name + ": " + r.status);
        return r.json();
      });
    }
    return cache[name];
  }

  function terms(text) {
    return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(function (w) {
      return Array.from(w).length >= 2 && STOP.indexOf(w) < 0;
    });
  }

  function shardOf(term) {
    var key = Array.from(term).slice(0, 2);
    if (key.every(function (c) { return /^[a-z0-9]$/.test(c); })) return key.join("");
    return key.map(function (c) { return /^[a-z0-9]$/.test(c) ? c : c.codePointAt(0).toString(16); }).join("_");
  }

  // A term lives in the longest listed shard name that prefixes it (big shards are split).
  function shardFor(term, meta) {
    var base = shardOf(term);
    if (!/^[a-z0-9]+$/.test(term)) return base;
    for (var n = Math.min(term.length, 8); n > 2; n--) {
      if (meta.shardSet[term.slice(0, n)]) return term.slice(0, n);
    }
    return base;
  }

  function scoresFor(term, prefix, meta) {
    // Prefix matching (the word being typed) only from three characters, so a
    // short prefix never pulls in every shard below it.
    prefix = prefix && Array.from(term).length >= 3;
    var names = [shardFor(term, meta)];
    if (prefix) meta.shards.forEach(function (s) { if (s.length > term.length && s.indexOf(term) === 0) names.push(s); });
    names = names.filter(function (n) { return meta.shardSet[n]; });
    return Promise.all(names.map(function (n) { return get("terms-" + n + ".json"); })).then(function (shards) {
      var out = {};
      shards.forEach(function (shard) {
        Object.keys(shard).forEach(function (t) {
          if (t === term || (prefix && t.indexOf(term) === 0)) {
            var p = shard[t];
            for (var i = 0; i < p.length; i += 2) out[p[i]] = Math.max(out[p[i]] || 0, p[i + 1]);
          }
        });
      });
      return out;
    });
  }

  function search(meta, query, filters) {
    var words = terms(query);
    var pending = words.map(function (w, i) { return scoresFor(w, i === words.length - 1, meta); });
    return Promise.all(pending).then(function (maps) {
      var score = null;
      maps.forEach(function (m) {
        if (score === null) { score = m; return; }
        var next = {};
        Object.keys(score).forEach(function (d) { if (m[d]) next[d] = score[d] + m[d]; });
        score = next;
      });
      var ids;
      if (score === null) {
        ids = [];
        for (var d = 0; d < meta.docs; d++) ids.push(d);
        score = {};
      } else {
        ids = Object.keys(score).map(Number);
      }
      var used = FACETS.filter(function (f) { return filters[f] && meta.facets.indexOf(f) >= 0; });
      return Promise.all(used.map(function (f) { return get("facet-" + f + ".json"); })).then(function (lists) {
        lists.forEach(function (values, k) {
          var allowed = {};
          (values[filters[used[k]]] || []).forEach(function (d) { allowed[d] = true; });
          ids = ids.filter(function (d) { return allowed[d]; });
        });
        FACETS.forEach(function (f) { if (filters[f] && used.indexOf(f) < 0) ids = []; });
        ids.sort(function (a, b) { return (score[b] || 0) - (score[a] || 0) || a - b; });
        return ids;
      });
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function showMore(meta, token) {
    var slice = results.slice(shown, shown + PAGE);
    var chunks = {};
    slice.forEach(function (d) { chunks[Math.floor(d / meta.chunk)] = true; });
    return Promise.all(Object.keys(chunks).map(function (c) { return get("docs-" + c + ".json"); })).then(function () {
      if (token !== run) return;
      return Promise.all(slice.map(function (d) { return get("docs-" + Math.floor(d / meta.chunk) + ".json"); })).then(function (docs) {
        slice.forEach(function (d, i) {
          var doc = docs[i][d % meta.chunk];
          var li = el("li");
          var p = el("p", "r-title");
          var a = el("a", null, doc.t);
          a.href = doc.u;
          p.appendChild(a);
          li.appendChild(p);
          var bits = [doc.k.replace("-", " ")];
          if (doc.c) bits.push(doc.c);
          if (doc.g) bits.push(doc.g);
          if (doc.y) bits.push(String(doc.y));
          li.appendChild(el("p", "r-meta", bits.join(" · ")));
          if (doc.s) li.appendChild(el("p", null, doc.s));
          list.appendChild(li);
        });
        shown += slice.length;
        more.hidden = shown >= results.length;
      });
    });
  }

  function update(push) {
    var data = new FormData(form);
    var query = String(data.get("q") || "");
    var filters = {};
    var params = new URLSearchParams();
    if (query) params.set("q", query);
    FACETS.forEach(function (f) {
      filters[f] = String(data.get(f) || "");
      if (filters[f]) params.set(f, filters[f]);
    });
    if (push) history.replaceState(null, "", "?" + params.toString());
    var token = ++run;
    list.textContent = "";
    more.hidden = true;
    if (!terms(query).length && !FACETS.some(function (f) { return filters[f]; })) {
      status.textContent = "Type words to search, or choose a filter.";
      return;
    }
    status.textContent = "Searching…";
    get("meta.json").then(function (meta) {
      if (!meta.shardSet) {
        meta.shardSet = {};
        meta.shards.forEach(function (s) { meta.shardSet[s] = true; });
      }
      return search(meta, query, filters).then(function (ids) {
        if (token !== run) return;
        results = ids;
        shown = 0;
        status.textContent = ids.length === 0 ? "No studies match." : ids.length + (ids.length === 1 ? " study matches." : " studies match.");
        return showMore(meta, token);
      });
    }).catch(function (e) {
      status.textContent = "Search is unavailable: " + e.message;
    });
  }

  var initial = new URLSearchParams(location.search);
  form.elements.q.value = initial.get("q") || "";
  FACETS.forEach(function (f) { if (initial.get(f)) form.elements[f].value = initial.get(f); });
  form.addEventListener("submit", function (e) { e.preventDefault(); update(true); });
  FACETS.forEach(function (f) { form.elements[f].addEventListener("change", function () { update(true); }); });
  more.addEventListener("click", function () { get("meta.json").then(function (meta) { showMore(meta, run); }); });
  update(false);
})();
