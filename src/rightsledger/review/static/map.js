// Map: province polygons and county seats from the bundled data (no tile server), cases as
// circles sized by victims, origin→destination lines, nearby cases grouped when zoomed out —
// here in the browser for a few thousand cases, by the server (per view and zoom) beyond that.
// Text from the ledger is only ever set with textContent, never as HTML.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var only = el.dataset.only || "";
  var query = el.dataset.query || "";
  var tileUrl = el.dataset.tileUrl || "";
  var CLUSTER_BELOW_ZOOM = 8, CLUSTER_PX = 44;

  var map = L.map(el, { zoomSnap: 0.5, attributionControl: true });
  map.attributionControl.setPrefix("");
  if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 14 }).addTo(map);
  map.setView([40.1, 127.2], 6.5);

  function node(tag, text, cls) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (cls) n.className = cls;
    return n;
  }
  function label(s) { return String(s || "").replace(/_/g, " "); }
  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(url + ": " + r.status); return r.json(); });
  }

  var casesLayer = L.layerGroup().addTo(map);
  var linesLayer = L.layerGroup().addTo(map);
  var markers = [];

  function radius(victims) { return Math.min(30, 6 + 3 * Math.sqrt(victims || 0)); }

  function popup(m) {
    var box = node("div", null, "popup");
    var link = node("a", (m.case ? "Case " : "Incident ") + m.id);
    link.href = m.case ? "/cases/" + encodeURIComponent(m.id) : "/documents/" + encodeURIComponent(m.document_id);
    box.appendChild(link);
    box.appendChild(node("div", m.types.map(label).join(", ")));
    box.appendChild(node("div", m.place || ""));
    if (m.victims) box.appendChild(node("div", m.victims + " " + (m.unit || "persons")));
    return box;
  }

  function draw() {
    casesLayer.clearLayers();
    var zoom = map.getZoom();
    var groups = [];
    markers.forEach(function (m) {
      var p = map.latLngToLayerPoint([m.lat, m.lon]);
      var g = null;
      if (zoom < CLUSTER_BELOW_ZOOM) {
        for (var i = 0; i < groups.length; i++) {
          if (groups[i].p.distanceTo(p) < CLUSTER_PX) { g = groups[i]; break; }
        }
      }
      if (g) { g.items.push(m); } else { groups.push({ p: p, items: [m] }); }
    });
    groups.forEach(function (g) {
      if (g.items.length === 1) {
        var m = g.items[0];
        L.circleMarker([m.lat, m.lon], { radius: radius(m.victims), color: "#6a1b9a", weight: 1.5,
          fillColor: "#ab47bc", fillOpacity: 0.55, className: "case-marker" })
          .bindPopup(popup(m)).bindTooltip(node("span", (m.place || "") + " · " + m.types.map(label).join(", ")))
          .addTo(casesLayer);
      } else {
        var lat = 0, lon = 0;
        g.items.forEach(function (m) { lat += m.lat; lon += m.lon; });
        var center = [lat / g.items.length, lon / g.items.length];
        var icon = L.divIcon({ className: "cluster-marker", iconSize: [30, 30], html: "" });
        var mk = L.marker(center, { icon: icon, keyboard: true });
        mk.on("add", function () {
          var span = node("div", String(g.items.length), "cluster-label");
          mk.getElement().appendChild(span);
        });
        mk.on("click", function () { map.setView(center, Math.max(map.getZoom() + 2, CLUSTER_BELOW_ZOOM)); });
        mk.bindTooltip(node("span", g.items.length + " cases here; click to zoom in"));
        mk.addTo(casesLayer);
      }
    });
    el.dataset.markers = String(markers.length);
    el.dataset.drawn = String(groups.length);
  }

  function drawLines() {
    linesLayer.clearLayers();
    markers.forEach(function (m) {
      m.lines.forEach(function (line) {
        L.polyline(line, { color: "#6a1b9a", weight: 2, dashArray: "6 4", className: "move-line" }).addTo(linesLayer);
        L.circleMarker(line[0], { radius: 3, color: "#6a1b9a", fillOpacity: 1, className: "origin-point" }).addTo(linesLayer);
      });
    });
  }

  // Many cases: the server groups them into clusters for the current view and zoom (with lines
  // between clusters), and the map asks again whenever the view changes.
  function drawServerClusters(found) {
    casesLayer.clearLayers();
    linesLayer.clearLayers();
    found.lines.forEach(function (f) {
      L.polyline([f.from, f.to], { color: "#6a1b9a", weight: Math.min(8, 1 + Math.log(1 + f.count)), opacity: 0.6,
        dashArray: "6 4", className: "move-line" })
        .bindTooltip(node("span", f.count + " relocation(s) or repatriation(s)")).addTo(linesLayer);
    });
    found.clusters.forEach(function (c) {
      var size = Math.round(Math.min(60, 24 + 6 * Math.log(c.count)));
      var icon = L.divIcon({ className: "cluster-marker", iconSize: [size, size], html: "" });
      var mk = L.marker([c.lat, c.lon], { icon: icon, keyboard: true });
      mk.on("add", function () { mk.getElement().appendChild(node("div", String(c.count), "cluster-label")); });
      mk.on("click", function () { map.setView([c.lat, c.lon], map.getZoom() + 2); });
      mk.bindTooltip(node("span", c.count + " cases, " + c.victims + " victims; click to zoom in"));
      mk.addTo(casesLayer);
    });
    el.dataset.markers = String(found.total);
    el.dataset.drawn = String(found.clusters.length);
  }

  var serverMode = false, pending = null;
  function mapUrl(withView) {
    var url = "/api/map?" + query;
    if (withView) {
      var b = map.getBounds();
      url += (query ? "&" : "") + "bbox=" + [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]
        .map(function (x) { return x.toFixed(4); }).join(",") + "&zoom=" + map.getZoom();
    }
    return url;
  }
  function show(found) {
    if (found.clustered) {
      serverMode = true;
      markers = [];
      drawServerClusters(found);
    } else {
      markers = found.markers.filter(function (m) { return !only || m.id === only; });
      drawLines();
      draw();
    }
    var status = document.getElementById("map-status");
    if (status) {
      status.textContent = found.clustered
        ? found.total + " case(s) with known coordinates; " + found.shown + " in view, grouped by the server."
        : found.total + " case(s) with known coordinates" + (serverMode ? ", " + found.shown + " in view." : " shown.");
    }
  }
  function refresh() {
    if (!serverMode) { draw(); return; }
    if (pending) clearTimeout(pending);
    pending = setTimeout(function () { get(mapUrl(true)).then(show); }, 200);
  }

  Promise.all([get("/api/map-base"), get(mapUrl(false))]).then(function (res) {
    var base = res[0], found = res[1];
    var provinces = L.geoJSON(base.provinces, {
      style: { color: "#7a8799", weight: 1, fillColor: "#f4f1e8", fillOpacity: 1 },
      onEachFeature: function (f, layer) {
        var name = (f.properties && (f.properties.name || f.properties.NAME)) || "";
        if (name) layer.bindTooltip(node("span", name), { sticky: true });
      }
    }).addTo(map);
    provinces.bringToBack();
    base.counties.forEach(function (c) {
      L.circleMarker([c.lat, c.lon], { radius: 2, color: "#8a94a6", weight: 1, fillOpacity: 0.8,
        className: "county-point" }).bindTooltip(node("span", c.name + (c.province ? ", " + c.province : "")))
        .addTo(map);
    });
    var first = found.markers.filter(function (m) { return !only || m.id === only; });
    if (only && first.length) {
      map.setView([first[0].lat, first[0].lon], 8);
    } else {
      map.fitBounds(provinces.getBounds(), { padding: [10, 10] });
    }
    show(found);
    map.on("zoomend", refresh);
    map.on("moveend", function () { if (serverMode) refresh(); });
    el.dataset.ready = "1";
  }).catch(function (err) {
    var status = document.getElementById("map-status");
    if (status) status.textContent = "The map data could not be loaded: " + err.message;
    el.dataset.ready = "error";
  });
})();
