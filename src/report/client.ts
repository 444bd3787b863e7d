/**
 * The page script shared by the static report and the live dashboard (plain browser JavaScript, kept
 * as a string so it is inlined as is). It reads the data JSON from <script id="tsnas-data">, draws
 * every view with ECharts and SVG, and, when `live` is set, polls /api/data every second with the
 * cursor of what it has, merging the changed trials and summaries it gets back (dashboard/live.ts).
 * The trial table is virtual: only the rows in view (plus a margin) are in the DOM, so 12,000 trials
 * cost what 40 do; charts are redrawn when a summary changed, at most every `chartMs`.
 * Every user-supplied string is put in the page with textContent or escaped (tooltips).
 */
export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('tsnas-config').textContent);
  var data = JSON.parse(document.getElementById('tsnas-data').textContent);
  var cursor = null;
  var selected = null;
  var CHART_MS = 2000;
  var chartMs = CHART_MS;
  /** Lines of the parallel-coordinates chart: the latest complete trials (thousands of lines say no more, and cost seconds). */
  var PARALLEL_MAX = 500;
  /** Above this many learning curves they are drawn as one series per kind (complete, pruned). */
  var BUNDLE_CURVES = 60;
  /** Scatter charts show the latest this many finished trials (and say so). */
  var SCATTER_MAX = 3000;
  var lastCharts = 0;
  var chartTimer = null;
  var charts = {};
  var PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function fmt(v, d) {
    if (v === null || v === undefined || v === '') return '';
    if (typeof v !== 'number') return String(v);
    if (Math.abs(v) >= 1e6) return v.toExponential(2);
    return v.toFixed(d === undefined ? 2 : d);
  }
  function chart(id) {
    var node = document.getElementById(id);
    if (!charts[id]) charts[id] = echarts.init(node, null, { renderer: 'canvas' });
    return charts[id];
  }
  function empty(id, message) {
    if (charts[id]) { charts[id].dispose(); delete charts[id]; }
    var node = document.getElementById(id);
    node.textContent = '';
    node.appendChild(el('p', message, { 'class': 'empty' }));
  }
  function clearEmpty(id) {
    var node = document.getElementById(id);
    var p = node.querySelector('p.empty');
    if (p) node.removeChild(p);
  }

  function renderTotals() {
    var tb = document.querySelector('#totals tbody');
    tb.textContent = '';
    data.experiments.forEach(function (e) {
      var t = e.totals;
      var tr = el('tr');
      [e.name, e.strategy, t.trials, t.complete, t.pruned, t.failed, fmt(t.wallSeconds), fmt(t.cpuSeconds), fmt(t.simulatedSeconds, 0),
        fmt(t.flops), t.maxPeakMemoryBytes === null ? '' : fmt(t.maxPeakMemoryBytes / 1048576, 1) + ' MiB', t.backends.join(', '),
        fmt(t.billedHours, 3) + ' ' + t.billedAs, t.cost === null ? '' : fmt(t.cost, 2)].forEach(function (v) { tr.appendChild(el('td', v)); });
      tb.appendChild(tr);
    });
    document.getElementById('total-trials').textContent = String(data.totalTrials);
    document.getElementById('generated').textContent = data.generatedAt;
    document.getElementById('storage').textContent = data.storage;
  }

  /** The points of a best-so-far curve where it changes (and its last one): the same step line, far fewer points. */
  function stepPoints(points) {
    var out = [];
    var last = null;
    points.forEach(function (p, i) {
      if (p.best === null) return;
      if (p.best !== last || i === points.length - 1) out.push([p.compute, p.best]);
      last = p.best;
    });
    return out;
  }

  function renderAnytime() {
    var exps = data.experiments.filter(function (e) { return e.anytime.points.length > 0; });
    if (!exps.length) return empty('chart-anytime', 'no finished trials yet');
    clearEmpty('chart-anytime');
    var axes = {};
    exps.forEach(function (e) { axes[e.anytime.axis] = 1; });
    var axisName = Object.keys(axes).length > 1 ? 'compute (s, simulated or wall)' : (exps[0].anytime.axis === 'simulated' ? 'simulated training seconds' : 'wall seconds');
    chart('chart-anytime').setOption({
      color: PALETTE,
      animation: false,
      tooltip: { trigger: 'axis', formatter: function (ps) {
        return 'compute ' + fmt(ps[0].value[0], 1) + ' s' + ps.map(function (p) { return '<br>' + esc(p.seriesName) + ': best ' + fmt(p.value[1], 4); }).join('');
      } },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 50 },
      xAxis: { type: 'value', name: axisName, nameLocation: 'middle', nameGap: 28 },
      yAxis: { type: 'value', name: 'best so far', scale: true },
      series: exps.map(function (e) {
        return { name: e.name + ' (' + e.strategy + ')', type: 'line', step: 'end', showSymbol: false,
          data: stepPoints(e.anytime.points) };
      })
    }, true);
  }

  function renderSelect() {
    var sel = document.getElementById('exp-select');
    sel.textContent = '';
    data.experiments.forEach(function (e, i) {
      var o = el('option', e.name + ' (' + e.strategy + ', ' + e.trials.length + ' trials)', { value: String(e.id) });
      sel.appendChild(o);
    });
    if (selected === null && data.experiments.length) selected = data.experiments[0].id;
    sel.value = String(selected);
  }

  function current() {
    for (var i = 0; i < data.experiments.length; i++) if (data.experiments[i].id === selected) return data.experiments[i];
    return data.experiments[0] || null;
  }

  function renderSummary(e) {
    document.getElementById('exp-name').textContent = e.name;
    document.getElementById('trial-count').textContent = String(e.trials.length);
    document.getElementById('exp-strategy').textContent = e.strategy + (e.spaceName ? ' on ' + e.spaceName : '');
    document.getElementById('exp-best').textContent = e.best ? '#' + e.best.number + ' ' + e.best.values.map(function (v) { return fmt(v, 4); }).join(', ') + ' ' + JSON.stringify(e.best.params) : 'none yet';
  }

  function renderLearningCurves(e) {
    var withLc = e.trials.filter(function (t) { return t.intermediate.length > 0; }).slice(-200);
    if (!withLc.length) return empty('chart-lc', 'no intermediate values recorded in this experiment');
    clearEmpty('chart-lc');
    var series = [];
    // Many curves: one series per kind (complete, pruned) with gaps between trials, so a redraw costs
    // milliseconds, not a second; a few: one series per trial, each in its own colour.
    var bundled = withLc.length > BUNDLE_CURVES;
    var bundles = { done: [], pruned: [] };
    withLc.forEach(function (t, k) {
      var stopped = t.state === 'PRUNED';
      if (bundled) {
        var b = stopped ? bundles.pruned : bundles.done;
        t.intermediate.forEach(function (iv) { b.push({ value: [iv.step, iv.value], n: t.number }); });
        b.push({ value: [null, null] });
      }
      var color = stopped ? '#d62728' : PALETTE[k % PALETTE.length];
      var pts = t.intermediate.map(function (iv, i) {
        var last = i === t.intermediate.length - 1;
        return { value: [iv.step, iv.value], symbol: stopped && last ? 'triangle' : 'circle', symbolSize: stopped && last ? 10 : 3 };
      });
      if (!bundled) series.push({ name: '#' + t.number + (stopped ? ' pruned' : ''), type: 'line', data: pts, showSymbol: true,
        lineStyle: { width: 1, type: stopped ? 'dashed' : 'solid', color: color }, itemStyle: { color: color } });
      if (t.prediction) {
        var lastIv = t.intermediate[t.intermediate.length - 1];
        var pred = [[lastIv.step, lastIv.value]].concat(t.prediction.map(function (p) { return [p.step, p.mean]; }));
        series.push({ name: '#' + t.number + ' predicted', type: 'line', data: pred, showSymbol: true, symbol: 'diamond', symbolSize: 7,
          lineStyle: { width: 2, type: 'dotted', color: '#222' }, itemStyle: { color: '#222' } });
        t.prediction.forEach(function (p) {
          if (p.lower === null || p.upper === null) return;
          series.push({ name: '#' + t.number + ' interval', type: 'line', data: [[p.step, p.lower], [p.step, p.upper]], showSymbol: true,
            symbol: 'rect', symbolSize: [10, 2], lineStyle: { width: 2, color: '#222' }, itemStyle: { color: '#222' } });
        });
      }
    });
    if (bundled) {
      series.unshift(
        { name: 'complete', type: 'line', data: bundles.done, showSymbol: false, connectNulls: false, lineStyle: { width: 1, color: '#1f77b4', opacity: 0.5 }, itemStyle: { color: '#1f77b4' } },
        { name: 'pruned', type: 'line', data: bundles.pruned, showSymbol: false, connectNulls: false, lineStyle: { width: 1, type: 'dashed', color: '#d62728', opacity: 0.6 }, itemStyle: { color: '#d62728' } });
    }
    chart('chart-lc').setOption({
      animation: false,
      title: { text: 'dashed red, triangle: pruned / early-stopped; dotted: extrapolated prediction', textStyle: { fontSize: 11, fontWeight: 'normal' }, left: 'center' },
      tooltip: { trigger: 'item', formatter: function (p) { return (p.data && p.data.n !== undefined ? '#' + p.data.n + ' ' : '') + esc(p.seriesName) + '<br>step ' + fmt(p.value[0], 0) + ': ' + fmt(p.value[1], 4); } },
      grid: { left: 60, right: 20, top: 30, bottom: 40 },
      xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 25 },
      yAxis: { type: 'value', name: e.objectiveNames[0], scale: true },
      series: series
    }, true);
  }

  function renderImportance(e) {
    if (!e.importance.length) return empty('chart-importance', 'needs two or more complete trials');
    clearEmpty('chart-importance');
    var imp = e.importance.slice(0, 15).reverse();
    chart('chart-importance').setOption({
      animation: false,
      tooltip: { trigger: 'item', formatter: function (p) { return esc(p.name) + ': adjusted R\u00b2 ' + fmt(p.value, 3); } },
      grid: { left: 140, right: 30, top: 10, bottom: 40 },
      xAxis: { type: 'value', name: 'adjusted R\u00b2 of marginal means', nameLocation: 'middle', nameGap: 25, min: 0 },
      yAxis: { type: 'category', data: imp.map(function (i) { return i.param.length > 22 ? i.param.slice(0, 21) + '\u2026' : i.param; }) },
      series: [{ type: 'bar', data: imp.map(function (i) { return { name: i.param, value: i.r2 }; }), itemStyle: { color: '#1f77b4' } }]
    }, true);
  }

  function renderParallel(e) {
    var done = e.trials.filter(function (t) { return t.state === 'COMPLETE' && t.values && t.values[0] !== null; }).slice(-PARALLEL_MAX);
    var names = e.importance.slice(0, 8).map(function (i) { return i.param; });
    if (done.length < 2 || !names.length) return empty('chart-parallel', 'needs two or more complete trials');
    clearEmpty('chart-parallel');
    var axes = names.map(function (n, i) {
      var vals = done.map(function (t) { return t.params[n]; });
      var numeric = vals.every(function (v) { return typeof v === 'number' || v === undefined; });
      if (numeric) return { dim: i, name: n, type: 'value', scale: true };
      var cats = [];
      vals.forEach(function (v) { var k = v === undefined ? '(inactive)' : String(v); if (cats.indexOf(k) < 0) cats.push(k); });
      return { dim: i, name: n, type: 'category', data: cats.sort() };
    });
    axes.push({ dim: names.length, name: e.objectiveNames[0], type: 'value', scale: true });
    var ys = done.map(function (t) { return t.values[0]; });
    chart('chart-parallel').setOption({
      animation: false,
      parallel: { left: 50, right: 90, top: 40, bottom: 30, parallelAxisDefault: { nameTextStyle: { fontSize: 10 }, axisLabel: { fontSize: 9 } } },
      parallelAxis: axes,
      visualMap: { type: 'continuous', dimension: names.length, min: Math.min.apply(null, ys), max: Math.max.apply(null, ys), right: 0, top: 'middle', itemHeight: 120,
        inverse: e.directions[0] === 'minimize', inRange: { color: ['#d0d7e5', '#1f77b4', '#08306b'] }, textStyle: { fontSize: 9 } },
      series: [{ type: 'parallel', lineStyle: { width: 1, opacity: 0.6 }, data: done.map(function (t) {
        return names.map(function (n, i) { var v = t.params[n]; return axes[i].type === 'category' ? (v === undefined ? '(inactive)' : String(v)) : v; }).concat([t.values[0]]);
      }) }]
    }, true);
  }

  function renderCost(e) {
    var fin = e.trials.filter(function (t) { return t.state !== 'RUNNING' && t.state !== 'WAITING'; });
    var all = fin.length;
    fin = fin.slice(-SCATTER_MAX);
    if (!fin.length) return empty('chart-cost', 'no finished trial yet');
    clearEmpty('chart-cost');
    var sim = e.totals.computeAxis === 'simulated';
    var states = ['COMPLETE', 'PRUNED', 'FAILED'];
    var colors = { COMPLETE: '#1f77b4', PRUNED: '#d62728', FAILED: '#999' };
    chart('chart-cost').setOption({
      animation: false,
      legend: { top: 0 },
      title: all > fin.length ? { text: 'latest ' + fin.length + ' of ' + all + ' trials', right: 0, top: 0, textStyle: { fontSize: 11, fontWeight: 'normal' } } : undefined,
      tooltip: { trigger: 'item', formatter: function (p) { return '#' + p.data.n + ' ' + esc(p.seriesName) + '<br>' + fmt(p.value[0], 2) + ' s, ' + fmt(p.value[1], 4); } },
      grid: { left: 60, right: 20, top: 40, bottom: 50 },
      xAxis: { type: 'value', name: sim ? 'simulated training seconds per trial' : 'wall seconds per trial', nameLocation: 'middle', nameGap: 28, scale: true },
      yAxis: { type: 'value', name: e.objectiveNames[0] + ' (last value)', scale: true },
      series: states.map(function (st) {
        return { name: st, type: 'scatter', symbolSize: 6, large: true, largeThreshold: 2000, itemStyle: { color: colors[st] }, data: fin.filter(function (t) {
          return t.state === st && t.values && t.values[0] !== null;
        }).map(function (t) { return { n: t.number, value: [t.efficacy.trainSeconds, t.values[0]] }; }) };
      })
    }, true);
  }

  function renderPareto(e) {
    var done = e.trials.filter(function (t) { return t.state === 'COMPLETE' && t.values && t.values[0] !== null; });
    if (!e.paretoFront && done.length > SCATTER_MAX) done = done.slice(-SCATTER_MAX);
    var title = document.getElementById('pareto-title');
    if (!done.length) { title.textContent = 'Objectives'; return empty('chart-pareto', 'no complete trial yet'); }
    clearEmpty('chart-pareto');
    var tip = { trigger: 'item', formatter: function (p) { return esc(p.seriesName) + ' #' + p.data.n + '<br>' + p.value.map(function (v) { return fmt(v, 4); }).join(', '); } };
    if (e.paretoFront) {
      title.textContent = 'Pareto front';
      var front = {};
      e.paretoFront.forEach(function (n) { front[n] = 1; });
      var pt = function (t) { return { n: t.number, value: [t.values[0], t.values[1]] }; };
      var fr = done.filter(function (t) { return front[t.number]; }).map(pt).sort(function (a, b) { return a.value[0] - b.value[0]; });
      chart('chart-pareto').setOption({
        animation: false, tooltip: tip, legend: { top: 0 },
        grid: { left: 60, right: 20, top: 40, bottom: 50 },
        xAxis: { type: 'value', scale: true, name: e.objectiveNames[0] + ' (' + e.directions[0] + ')', nameLocation: 'middle', nameGap: 28 },
        yAxis: { type: 'value', scale: true, name: e.objectiveNames[1] + ' (' + e.directions[1] + ')' },
        series: [
          { name: 'trials', type: 'scatter', symbolSize: 6, large: true, largeThreshold: 2000, itemStyle: { color: '#aaa' }, data: done.filter(function (t) { return !front[t.number]; }).map(pt) },
          { name: 'Pareto front', type: 'line', step: false, symbolSize: 9, itemStyle: { color: '#d62728' }, lineStyle: { type: 'dashed' }, data: fr }
        ]
      }, true);
    } else {
      title.textContent = 'Objective per trial' + (done.length === SCATTER_MAX ? ' (latest ' + SCATTER_MAX + ')' : '');
      chart('chart-pareto').setOption({
        animation: false, tooltip: tip,
        grid: { left: 60, right: 20, top: 20, bottom: 50 },
        xAxis: { type: 'value', name: 'trial', nameLocation: 'middle', nameGap: 28 },
        yAxis: { type: 'value', scale: true, name: e.objectiveNames[0] },
        series: [{ name: 'trial', type: 'scatter', symbolSize: 6, large: true, largeThreshold: 2000, data: done.map(function (t) { return { n: t.number, value: [t.number, t.values[0]] }; }) }]
      }, true);
    }
  }

  var SVG = 'http://www.w3.org/2000/svg';
  function svgEl(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function renderArch(e) {
    var box = document.getElementById('arch');
    box.textContent = '';
    var a = e.arch;
    document.getElementById('arch-title').textContent = a ? 'Best architecture: ' + a.title + (e.best ? ' (trial #' + e.best.number + ')' : '') : 'Best architecture';
    if (!a) { box.appendChild(el('p', e.best ? 'no drawing for this space' : 'no complete trial yet', { 'class': 'empty' })); return; }
    var svg = svgEl('svg', { width: Math.ceil(a.width), height: Math.ceil(a.height), viewBox: '0 0 ' + Math.ceil(a.width) + ' ' + Math.ceil(a.height), 'class': 'arch-svg' });
    var defs = svgEl('defs', {});
    var marker = svgEl('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.appendChild(svgEl('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#444' }));
    defs.appendChild(marker);
    svg.appendChild(defs);
    a.edges.forEach(function (ed) {
      if (ed.points.length < 2) return;
      svg.appendChild(svgEl('polyline', { points: ed.points.map(function (p) { return p.x + ',' + p.y; }).join(' '), fill: 'none', stroke: '#444', 'stroke-width': 1.3, 'marker-end': 'url(#arrow)' }));
      if (ed.label && ed.labelPos) {
        var w = ed.label.length * 6.6 + 6;
        svg.appendChild(svgEl('rect', { x: ed.labelPos.x - w / 2, y: ed.labelPos.y - 8, width: w, height: 16, fill: '#fff', opacity: 0.85 }));
        svg.appendChild(svgEl('text', { x: ed.labelPos.x, y: ed.labelPos.y + 4, 'text-anchor': 'middle', 'font-size': 11, fill: '#8b1a1a', 'class': 'edge-label' }, ed.label));
      }
    });
    a.nodes.forEach(function (n) {
      var fill = n.kind === 'input' || n.kind === 'output' ? '#fde2b3' : n.kind === 'merge' ? '#d9ead3' : '#dbe8f6';
      svg.appendChild(svgEl('rect', { x: n.x, y: n.y, width: n.width, height: n.height, rx: 5, fill: fill, stroke: '#335' }));
      svg.appendChild(svgEl('text', { x: n.x + n.width / 2, y: n.y + n.height / 2 + 4, 'text-anchor': 'middle', 'font-size': 12, 'class': 'node-label' }, n.label));
    });
    box.appendChild(svg);
  }

  var table = { rows: [], rowH: 0, frame: 0 };
  function trialRow(t) {
    var f = t.efficacy;
    var tr = el('tr', null, { 'data-tid': String(t.id), 'class': 'row state-' + t.state });
    [t.number, t.state, t.values ? t.values.map(function (v) { return fmt(v, 4); }).join(', ') : '', JSON.stringify(t.params), f.fidelity,
      fmt(f.trainSeconds, 1), fmt(f.wallSeconds, 3), fmt(f.cpuSeconds, 3), fmt(f.flops), fmt(f.params, 0), f.backend, t.error].forEach(function (v, i) {
      var td = el('td', v, i === 3 || i === 11 ? { 'class': 'clip' } : null);
      if ((i === 3 || i === 11) && v) td.setAttribute('title', String(v));
      tr.appendChild(td);
    });
    return tr;
  }
  function spacer(h) {
    var tr = el('tr', null, { 'class': 'spacer' });
    tr.appendChild(el('td', null, { colspan: '12', style: 'height:' + h + 'px' }));
    return tr;
  }
  /** Draws the rows in view of the scroll box (newest first), with spacers standing for the others. */
  function drawTrialRows() {
    table.frame = 0;
    var box = document.getElementById('trials-box');
    var tb = document.querySelector('#trials tbody');
    var n = table.rows.length;
    var h = table.rowH || 24;
    var first = Math.max(0, Math.floor(box.scrollTop / h) - 10);
    var last = Math.min(n, first + Math.ceil((box.clientHeight || 420) / h) + 20);
    tb.textContent = '';
    if (first > 0) tb.appendChild(spacer(first * h));
    for (var i = first; i < last; i++) tb.appendChild(trialRow(table.rows[n - 1 - i]));
    if (last < n) tb.appendChild(spacer((n - last) * h));
    if (!table.rowH && last > first) {
      table.rowH = tb.querySelector('tr.row').getBoundingClientRect().height || 24;
      if (Math.abs(table.rowH - h) > 0.5) drawTrialRows();
    }
  }
  function renderTrials(e) {
    table.rows = e.trials;
    drawTrialRows();
  }
  document.getElementById('trials-box').addEventListener('scroll', function () {
    if (!table.frame) table.frame = requestAnimationFrame(drawTrialRows);
  });

  /** Draws the charts one per task, so the page answers input between them. */
  var chartQueue = [];
  function renderCharts() {
    lastCharts = Date.now();
    if (chartTimer) { clearTimeout(chartTimer); chartTimer = null; }
    var queued = chartQueue.length > 0;
    chartQueue = [renderAnytime, renderLearningCurves, renderImportance, renderParallel, renderCost, renderPareto, renderArch];
    if (queued) return;
    var spent = 0;
    var next = function () {
      if (typeof echarts === 'undefined') return setTimeout(next, 50); // still loading (dashboard)
      var f = chartQueue.shift();
      if (!f) return;
      var t0 = Date.now();
      var e = current();
      if (f === renderAnytime) f();
      else if (e) f(e);
      spent += Date.now() - t0;
      if (chartQueue.length) setTimeout(next, 0);
      // Redraw no more often than every 2 s, nor than 10 times what a redraw costs (big experiments).
      else chartMs = Math.max(CHART_MS, 10 * spent);
    };
    // Let the tables reach the screen first.
    requestAnimationFrame(function () { setTimeout(next, 0); });
  }

  /** Tables and numbers now; charts now when charts, else at most every CHART_MS (they cost the most). */
  function render(charts) {
    renderTotals();
    renderSelect();
    var e = current();
    if (e) {
      renderSummary(e);
      renderTrials(e);
    }
    if (charts === false) { /* only rows changed: the next summary redraws the charts */ }
    else if (charts === true || Date.now() - lastCharts >= chartMs) renderCharts();
    else if (!chartTimer) chartTimer = setTimeout(renderCharts, chartMs - (Date.now() - lastCharts));
    document.body.setAttribute('data-rendered', cursor === null ? 'static' : cursor);
  }

  /** Merges a /api/data answer into data: summaries replaced, trial rows added or replaced by id. */
  var trialIndex = {};
  function merge(msg) {
    if (msg.reset) { data.experiments = []; trialIndex = {}; }
    var byId = {};
    data.experiments.forEach(function (e) { byId[e.id] = e; });
    var summaryChanged = msg.reset;
    msg.experiments.forEach(function (m) {
      var e = byId[m.id];
      if (!e) { e = byId[m.id] = { trials: [] }; trialIndex[m.id] = {}; }
      for (var k in m) if (k !== 'trials') { e[k] = m[k]; if (k !== 'id') summaryChanged = true; }
      var index = trialIndex[m.id];
      var unsorted = false;
      m.trials.forEach(function (t) {
        var i = index[t.id];
        if (i !== undefined) { e.trials[i] = t; return; }
        if (e.trials.length && e.trials[e.trials.length - 1].number > t.number) unsorted = true;
        index[t.id] = e.trials.length;
        e.trials.push(t);
      });
      if (unsorted) {
        e.trials.sort(function (a, b) { return a.number - b.number; });
        index = trialIndex[m.id] = {};
        e.trials.forEach(function (t, i) { index[t.id] = i; });
      }
    });
    data.experiments = msg.order.map(function (id) { return byId[id]; }).filter(Boolean);
    data.storage = msg.storage;
    data.generatedAt = msg.generatedAt;
    data.costPerHour = msg.costPerHour;
    data.totalTrials = msg.totalTrials;
    cursor = msg.cursor;
    return summaryChanged;
  }

  document.getElementById('exp-select').addEventListener('change', function (ev) {
    selected = Number(ev.target.value);
    document.getElementById('trials-box').scrollTop = 0;
    render(true);
  });
  window.addEventListener('resize', function () { for (var k in charts) charts[k].resize(); });
  if (!cfg.live) render(true);

  if (cfg.live) {
    var status = document.getElementById('live-status');
    var roundTrips = window.tsnasRoundTrips = [];
    var poll = function () {
      var url = 'api/data' + (cursor === null ? '' : '?since=' + encodeURIComponent(cursor));
      var wait = cfg.pollMs;
      var asked = performance.now();
      // The first request matches the page's preload (same URL, default cache mode); later ones bypass caches.
      fetch(url, cursor === null ? {} : { cache: 'no-store' }).then(function (r) {
        if (r.status === 204) return null;
        if (!r.ok) return r.text().then(function (t) { throw new Error('HTTP ' + r.status + ' ' + t.slice(0, 200)); });
        return r.json();
      }).then(function (msg) {
        status.textContent = 'live, updated ' + new Date().toLocaleTimeString() + (msg && msg.warning ? ' (retrying: ' + msg.warning + ')' : '');
        if (msg) {
          var first = cursor === null;
          var charts = merge(msg);
          render(first ? true : charts ? undefined : false);
          // For the scale test (and anyone curious): when the first data was on screen, and each poll's
          // time from request to its rows drawn, in ms.
          if (first) requestAnimationFrame(function () { setTimeout(function () { document.body.setAttribute('data-first-paint', String(Math.round(performance.now()))); }, 0); });
          roundTrips.push(Math.round(performance.now() - asked));
          if (roundTrips.length > 100) roundTrips.shift();
        } else if (cursor === null) wait = 200; // nothing read yet: ask again soon
      }).catch(function (err) {
        status.textContent = 'live, retrying (' + err.message + ')';
      }).then(function () { setTimeout(poll, wait); });
    };
    poll();
  }
})();
`;
