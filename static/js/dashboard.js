// Draws the trend chart (ECharts) and the map of child nodes (Leaflet, no online tiles).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);

  function trend() {
    var element = document.getElementById("trend");
    if (!element || !window.echarts) { return; }
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    var percent = data.trend.percent || [];
    // Counts on the left axis, rates (0-100 %) on the right: on one axis a rate would lie flat at 0.
    var series = Object.keys(data.trend.series).map(function (code) {
      var rate = percent.indexOf(code) >= 0;
      return {
        name: data.labels[code], type: "line", smooth: true, data: data.trend.series[code],
        connectNulls: true, yAxisIndex: rate ? 1 : 0, lineStyle: rate ? { type: "dashed" } : undefined
      };
    });
    chart.setOption({
      tooltip: { trigger: "axis" }, legend: { type: "scroll" }, aria: { enabled: true },
      grid: { left: 8, right: 8, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.trend.labels || data.trend.periods },
      yAxis: [
        { type: "value" },
        { type: "value", min: 0, max: function (extent) { return Math.max(100, Math.ceil(extent.max)); }, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } }
      ],
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function colour(value, max) {
    if (value === null || value === undefined || !max) { return "#cfd8dc"; }
    var share = value / max;
    return share > 0.75 ? "#b71c1c" : share > 0.5 ? "#e53935" : share > 0.25 ? "#ef9a9a" : "#ffcdd2";
  }

  function map() {
    var element = document.getElementById("map");
    if (!element || !window.L) { return; }
    // A node's name is typed by staff: it goes into the tooltip as text, never as markup.
    function label(place) {
      var span = document.createElement("span");
      span.textContent = place.name + "：" + (place.value === null ? "–" : place.value);
      return span;
    }
    var places = data.map;
    var max = places.reduce(function (m, p) { return Math.max(m, p.value || 0); }, 0);
    var located = places.filter(function (p) { return p.geometry && p.geometry.type; });
    var leaflet;
    var layers = [];
    if (located.length) {
      leaflet = window.L.map(element, { attributionControl: false });
      located.forEach(function (place) {
        var style = { color: "#7f0000", weight: 1, fillColor: colour(place.value, max), fillOpacity: 0.8 };
        var layer = window.L.geoJSON(place.geometry, {
          style: style,
          pointToLayer: function (feature, latlng) { return window.L.circleMarker(latlng, Object.assign({ radius: 8 }, style)); }
        });
        layer.bindTooltip(label(place));
        layer.on("click", function () { window.location.href = place.url; });
        layer.addTo(leaflet);
        layers.push(layer);
      });
      leaflet.fitBounds(window.L.featureGroup(layers).getBounds(), { padding: [10, 10] });
    } else {
      // No geometry: a schematic grid of squares, one per child, on a plain plane.
      leaflet = window.L.map(element, { crs: window.L.CRS.Simple, attributionControl: false });
      var columns = Math.ceil(Math.sqrt(places.length || 1));
      places.forEach(function (place, index) {
        var x = index % columns, y = Math.floor(index / columns);
        var square = window.L.rectangle([[-y * 10, x * 10], [-y * 10 - 9, x * 10 + 9]],
          { color: "#7f0000", weight: 1, fillColor: colour(place.value, max), fillOpacity: 0.8 });
        square.bindTooltip(label(place), { permanent: places.length <= 20 });
        square.on("click", function () { window.location.href = place.url; });
        square.addTo(leaflet);
        layers.push(square);
      });
      if (layers.length) { leaflet.fitBounds(window.L.featureGroup(layers).getBounds()); } else { leaflet.setView([0, 0], 0); }
    }
  }

  trend();
  map();
})();
