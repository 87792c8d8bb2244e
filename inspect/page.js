/* page.js: the onnxcc inspect report: graph, details, search, collapse, arena timeline, diff. */
'use strict';
(function () {
    var errors = 0;
    window.addEventListener('error', function () { errors++; status(); });
    var data = JSON.parse(document.getElementById('onnxcc-data').textContent);
    var nodes = data.nodes;
    var SVG = 'http://www.w3.org/2000/svg';
    var BOX_W = 170, BOX_H = 44, GAP_X = 20, GAP_Y = 36, MAX_ITEMS = 400;

    function el(tag, attrs, text) {
        var e = document.createElement(tag);
        for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
        if (text !== undefined) e.textContent = text;
        return e;
    }
    function sv(tag, attrs) {
        var e = document.createElementNS(SVG, tag);
        for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
        return e;
    }
    function si(x) {
        var u = ['', ' k', ' M', ' G', ' T'], i = 0;
        while (Math.abs(x) >= 1000 && i < u.length - 1) { x /= 1000; i++; }
        return (i ? x.toPrecision(3) : String(Math.round(x))) + u[i];
    }

    /* ---- layout: the longest path from the inputs gives each node a layer ---- */
    var layer = [];
    nodes.forEach(function (n, i) {
        var l = 0;
        n.inputs.forEach(function (v) {
            if (v.from !== undefined && v.from < i) l = Math.max(l, layer[v.from] + 1);
        });
        layer[i] = l;
    });
    /* an ONNX name's prefixes: "/layers.0/attn/MatMul" is in "layers.0" and "layers.0/attn" */
    var prefixes = nodes.map(function (n) {
        var s = n.name.split('/').filter(function (x) { return x.length; });
        s.pop();
        var out = [];
        for (var k = 1; k <= s.length; k++) out.push(s.slice(0, k).join('/'));
        return out;
    });
    var maxDepth = prefixes.reduce(function (m, p) { return Math.max(m, p.length); }, 0);
    var opened = {}, closed = {}, depth = maxDepth, selected = -1, selectedKey = null;

    function isOpen(p, level) {
        if (closed[p]) return false;
        if (opened[p]) return true;
        return level <= depth;
    }
    function itemKey(i) {
        var p = prefixes[i];
        for (var k = 0; k < p.length; k++)
            if (!isOpen(p[k], k + 1)) return 'g:' + p[k];
        return 'n:' + i;
    }
    function countItems() {
        var seen = {}, c = 0;
        for (var i = 0; i < nodes.length; i++) {
            var k = itemKey(i);
            if (!seen[k]) { seen[k] = 1; c++; }
        }
        return c;
    }
    /* the deepest default depth that keeps the drawing under MAX_ITEMS boxes */
    while (depth > 0 && countItems() > MAX_ITEMS) depth--;

    var graphDiv, svg, details, statusEl, searchBox, hits = [], hitAt = -1, drawn = {};

    function status() {
        if (!statusEl) return;
        var items = Object.keys(drawn).length, covered = 0;
        for (var k in drawn) covered += drawn[k].members.length;
        statusEl.textContent = nodes.length + ' nodes, ' + items + ' boxes drawn' +
            (hits.length ? ', ' + hits.length + ' matches' : '');
        statusEl.setAttribute('data-nodes', nodes.length);
        statusEl.setAttribute('data-items', items);
        statusEl.setAttribute('data-drawn-nodes', covered);
        statusEl.setAttribute('data-errors', errors);
        statusEl.setAttribute('data-matches', hits.length);
    }

    function draw() {
        var items = {}, order = [], itemOf = [];
        nodes.forEach(function (n, i) {
            var k = itemKey(i);
            itemOf[i] = k;
            if (!items[k]) {
                items[k] = { key: k, members: [], layer: layer[i], preds: {} };
                order.push(items[k]);
            }
            items[k].members.push(i);
            items[k].layer = Math.min(items[k].layer, layer[i]);
        });
        var edges = {};
        nodes.forEach(function (n, i) {
            n.inputs.forEach(function (v) {
                if (v.from === undefined) return;
                var a = itemOf[v.from], b = itemOf[i];
                if (a !== b) { edges[a + '\u0000' + b] = [a, b]; items[b].preds[a] = 1; }
            });
        });
        /* layers of boxes: the distinct member layers, in order */
        var used = {};
        order.forEach(function (it) { used[it.layer] = 1; });
        var ranks = Object.keys(used).map(Number).sort(function (a, b) { return a - b; });
        var rankOf = {}, rows = [];
        ranks.forEach(function (l, r) { rankOf[l] = r; rows.push([]); });
        order.forEach(function (it) { it.rank = rankOf[it.layer]; rows[it.rank].push(it); });
        /* within a row, boxes sit near the mean position of what they read */
        var width = 0;
        rows.forEach(function (row) {
            row.forEach(function (it, j) {
                var ps = Object.keys(it.preds).filter(function (p) {
                    return items[p].x !== undefined;
                });
                it.bary = ps.length ? ps.reduce(function (s, p) { return s + items[p].x; }, 0) /
                    ps.length : j;
            });
            row.sort(function (a, b) { return a.bary - b.bary; });
            row.forEach(function (it, j) { it.x = j; });
            width = Math.max(width, row.length);
        });
        var W = width * (BOX_W + GAP_X) + GAP_X, H = rows.length * (BOX_H + GAP_Y) + GAP_Y;
        svg = sv('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H });
        function px(it) {
            var row = rows[it.rank], off = (width - row.length) * (BOX_W + GAP_X) / 2;
            return GAP_X + off + it.x * (BOX_W + GAP_X);
        }
        function py(it) { return GAP_Y / 2 + it.rank * (BOX_H + GAP_Y); }
        for (var e in edges) {
            var a = items[edges[e][0]], b = items[edges[e][1]];
            var x1 = px(a) + BOX_W / 2, y1 = py(a) + BOX_H, x2 = px(b) + BOX_W / 2, y2 = py(b);
            var my = (y1 + y2) / 2;
            svg.appendChild(sv('path', { 'class': 'edge', d: 'M' + x1 + ',' + y1 + ' C' + x1 +
                ',' + my + ' ' + x2 + ',' + my + ' ' + x2 + ',' + y2 }));
        }
        drawn = {};
        order.forEach(function (it) {
            var group = it.key.charAt(0) === 'g', n = nodes[it.members[0]];
            var cls = 'item ' + (group ? 'group' : 'node') +
                (!group && n.step < 0 ? ' run-const' : '') +
                (!group && n.fused_from.length ? ' fused' : '');
            var g = sv('g', { 'class': cls, 'data-key': it.key, 'data-count': it.members.length,
                transform: 'translate(' + px(it) + ',' + py(it) + ')' });
            g.appendChild(sv('rect', { width: BOX_W, height: BOX_H, rx: 5 }));
            var t1 = sv('text', { x: 6, y: 16, 'class': 'op' }), t2 = sv('text', { x: 6, y: 32 });
            var name = group ? it.key.slice(2) : n.name;
            t1.textContent = group ? it.members.length + ' nodes (click to open)' : n.op;
            t2.textContent = name.length > 30 ? '\u2026' + name.slice(name.length - 29) : name;
            var title = sv('title');
            title.textContent = group ? name : n.op + ' ' + n.name;
            g.appendChild(title);
            g.appendChild(t1);
            g.appendChild(t2);
            g.addEventListener('click', function () {
                var p = it.key.slice(2);
                if (group) { opened[p] = 1; delete closed[p]; draw(); }
                else select(it.members[0]);
            });
            svg.appendChild(g);
            drawn[it.key] = { g: g, members: it.members };
        });
        graphDiv.textContent = '';
        graphDiv.appendChild(svg);
        mark();
        status();
    }

    /* selection and search marks on the drawn boxes */
    function mark() {
        var hitSet = {};
        hits.forEach(function (i) { hitSet[i] = 1; });
        for (var k in drawn) {
            var d = drawn[k], hit = false, sel = false;
            d.members.forEach(function (i) {
                if (hitSet[i]) hit = true;
                if (i === selected) sel = true;
            });
            d.g.classList.toggle('hit', hit);
            d.g.classList.toggle('sel', sel);
            if (sel) selectedKey = k;
        }
        document.querySelectorAll('#timeline rect.buf').forEach(function (r) {
            r.classList.toggle('sel', Number(r.getAttribute('data-node')) === selected);
        });
    }

    function reveal(i) {
        prefixes[i].forEach(function (p) { opened[p] = 1; delete closed[p]; });
    }

    function select(i) {
        selected = i;
        var k = itemKey(i);
        if (k.charAt(0) === 'g') { reveal(i); draw(); }
        mark();
        var d = drawn['n:' + i];
        if (d && d.g.scrollIntoView) d.g.scrollIntoView({ block: 'center', inline: 'center' });
        showNode(i);
    }

    function row(t, k, v) {
        var tr = el('tr');
        tr.appendChild(el('td', {}, k));
        var td = el('td');
        if (v instanceof Node) td.appendChild(v); else td.textContent = v;
        tr.appendChild(td);
        t.appendChild(tr);
    }
    function link(text, fn) {
        var a = el('a', {}, text);
        a.addEventListener('click', fn);
        return a;
    }
    function valueText(v) {
        var s = v.name + ': ' + v.type + (v['const'] ? ' const' : '') + ', ' + si(v.bytes) + 'B';
        if (v.offset !== undefined)
            s += ', arena +' + v.offset + ', steps ' + v.first + '..' + v.last;
        return s;
    }
    function showNode(i) {
        var n = nodes[i];
        details.textContent = '';
        details.appendChild(el('h2', {}, n.op + ' ' + n.name));
        var t = el('table');
        row(t, 'op', (n.domain ? n.domain + '.' : '') + n.op);
        row(t, 'step', n.step < 0 ? 'constant (never runs)' : String(n.step));
        row(t, 'FLOPs', si(n.flops));
        row(t, 'bytes moved', si(n.bytes) + 'B');
        if (n.weight_bytes)
            row(t, 'weights', n.weight_format + ', ' + si(n.params) + ' params, ' +
                si(n.weight_bytes) + 'B');
        if (n.fused_from.length) row(t, 'fused from', n.fused_from.join(', '));
        n.inputs.forEach(function (v, k) {
            var span = el('span', {}, valueText(v) + ' ');
            if (v.from !== undefined)
                span.appendChild(link('from ' + nodes[v.from].name,
                                      function () { select(v.from); }));
            row(t, 'input ' + k, span);
        });
        n.outputs.forEach(function (v, k) { row(t, 'output ' + k, valueText(v)); });
        prefixes[i].forEach(function (p) {
            row(t, 'group', link('collapse ' + p, function () {
                closed[p] = 1; delete opened[p]; draw();
            }));
        });
        details.appendChild(t);
    }

    function search() {
        var q = searchBox.value.trim().toLowerCase();
        hits = [];
        hitAt = -1;
        if (q)
            nodes.forEach(function (n, i) {
                if (n.name.toLowerCase().indexOf(q) >= 0 || n.op.toLowerCase().indexOf(q) >= 0)
                    hits.push(i);
            });
        mark();
        status();
    }

    function header() {
        var h = el('header'), t = data.totals;
        h.appendChild(el('h1', {}, 'onnxcc inspect: ' + data.model));
        var d = el('div', { 'class': 'totals' });
        [[t.nodes + ' nodes (' + t.nodes_run + ' run)'], [si(t.flops) + 'FLOP'],
         [si(t.bytes) + 'B moved'], [si(t.params) + ' params'], [si(t.weight_bytes) + 'B weights'],
         ['arena ' + si(t.arena_bytes) + 'B']].forEach(function (s) {
            d.appendChild(el('span', {}, s[0]));
        });
        data.weight_formats.forEach(function (f) {
            d.appendChild(el('span', {}, f.format + ': ' + si(f.bytes) + 'B'));
        });
        h.appendChild(d);
        document.body.appendChild(h);
        var c = el('div', { id: 'controls' });
        searchBox = el('input', { type: 'search', placeholder: 'search name or op (Enter: next)',
                                  size: 32 });
        searchBox.addEventListener('input', search);
        searchBox.addEventListener('keydown', function (ev) {
            if (ev.key !== 'Enter' || !hits.length) return;
            hitAt = (hitAt + 1) % hits.length;
            select(hits[hitAt]);
        });
        c.appendChild(searchBox);
        c.appendChild(el('label', {}, 'open prefixes to depth '));
        var sel = el('select');
        for (var k = 0; k <= maxDepth; k++) {
            var o = el('option', { value: k }, String(k));
            if (k === depth) o.selected = true;
            sel.appendChild(o);
        }
        sel.addEventListener('change', function () {
            depth = Number(sel.value); opened = {}; closed = {}; draw();
        });
        c.appendChild(sel);
        c.appendChild(link('open all', function () {
            depth = maxDepth; opened = {}; closed = {}; sel.value = maxDepth; draw();
        }));
        statusEl = el('span', { id: 'status' });
        c.appendChild(statusEl);
        document.body.appendChild(c);
        var m = el('div', { id: 'main' });
        graphDiv = el('div', { id: 'graph' });
        details = el('aside', { id: 'details' },
                     'Click a node for its details, a group to open it.');
        m.appendChild(graphDiv);
        m.appendChild(details);
        document.body.appendChild(m);
    }

    /* the memory plan: one bar per buffer, steps across, arena offsets down */
    function timeline() {
        var s = el('section', { id: 'timeline' });
        s.appendChild(el('h2', {}, 'Arena timeline (' + si(data.totals.arena_bytes) +
            'B; x: step, y: offset; click a bar for its node)'));
        var bufs = [], seen = {}, steps = 1;
        nodes.forEach(function (n, i) {
            if (n.step >= 0) steps = Math.max(steps, n.step + 1);
            n.outputs.forEach(function (v) {
                if (v.offset === undefined || seen[v.name]) return;
                seen[v.name] = 1;
                bufs.push({ v: v, node: i });
            });
        });
        var W = 1000, H = 220, arena = Math.max(1, data.totals.arena_bytes);
        var g = sv('svg', { width: W + 60, height: H + 20,
                            viewBox: '0 0 ' + (W + 60) + ' ' + (H + 20) });
        g.appendChild(sv('rect', { x: 50, y: 0, width: W, height: H, fill: '#f4f6f8' }));
        bufs.forEach(function (b) {
            var v = b.v, x = 50 + v.first * W / steps;
            var w = Math.max(1, (v.last - v.first + 1) * W / steps);
            var r = sv('rect', { 'class': 'buf', x: x, y: v.offset * H / arena, width: w,
                height: Math.max(1, v.bytes * H / arena), 'data-node': b.node });
            var t = sv('title');
            t.textContent = valueText(v) + ' (' + nodes[b.node].name + ')';
            r.appendChild(t);
            r.addEventListener('click', function () { select(b.node); });
            g.appendChild(r);
        });
        var lab = sv('text', { x: 0, y: 10 });
        lab.textContent = '0';
        g.appendChild(lab);
        lab = sv('text', { x: 0, y: H });
        lab.textContent = si(arena) + 'B';
        g.appendChild(lab);
        lab = sv('text', { x: 50, y: H + 14 });
        lab.textContent = 'step 0 .. ' + (steps - 1) + ', ' + bufs.length + ' buffers';
        g.appendChild(lab);
        s.appendChild(g);
        document.body.appendChild(s);
    }

    function diff() {
        if (!data.diff) return;
        var byName = {};
        nodes.forEach(function (n, i) { byName[n.name] = i; });
        var s = el('section', { id: 'diff' });
        s.appendChild(el('h2', {}, 'What each pass changed'));
        var t = el('table'), kinds = ['removed', 'added', 'fused', 'rewritten'];
        var hr = el('tr');
        ['pass', 'nodes before', 'after'].concat(kinds).forEach(function (k) {
            hr.appendChild(el('th', {}, k));
        });
        t.appendChild(hr);
        data.diff.forEach(function (p) {
            var tr = el('tr');
            [p.pass, p.nodes_before, p.nodes_after].concat(kinds.map(function (k) {
                return p[k].length;
            })).forEach(function (v) { tr.appendChild(el('td', {}, String(v))); });
            t.appendChild(tr);
        });
        s.appendChild(t);
        data.diff.forEach(function (p) {
            kinds.forEach(function (k) {
                if (!p[k].length) return;
                var d = el('details');
                d.appendChild(el('summary', {}, p.pass + ': ' + p[k].length + ' ' + k));
                var ul = el('ul');
                p[k].slice(0, 2000).forEach(function (c) {
                    var s2 = ' (' + c.op + ')', li = el('li');
                    if (c.from) s2 += ' \u2190 ' + c.from.join(', ');
                    if (c.was) s2 += ' was ' + c.was;
                    /* a node still in the final graph links to it */
                    var at = byName[c.name];
                    li.appendChild(at === undefined ? el('span', {}, c.name)
                                   : link(c.name, function () { select(at); }));
                    li.appendChild(el('span', {}, s2));
                    ul.appendChild(li);
                });
                d.appendChild(ul);
                s.appendChild(d);
            });
        });
        document.body.appendChild(s);
    }

    /* #depth=N&search=TEXT&select=NAME: a view to link to (and to test) */
    var want = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
        var at = kv.indexOf('=');
        if (at > 0) want[kv.slice(0, at)] = decodeURIComponent(kv.slice(at + 1));
    });
    if (want.depth !== undefined && /^[0-9]+$/.test(want.depth))
        depth = Math.min(maxDepth, Number(want.depth));
    header();
    timeline();
    diff();
    draw();
    if (want.search) { searchBox.value = want.search; search(); }
    if (want.select)
        nodes.forEach(function (n, i) { if (n.name === want.select) select(i); });
})();
