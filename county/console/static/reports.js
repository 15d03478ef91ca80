// Charts of the reports page (ECharts, served by the county server: no internet needed).
(function () {
  var data = JSON.parse(document.getElementById("chart_data").textContent);
  var rate = echarts.init(document.getElementById("rate_chart"));
  rate.setOption({
    animation: false,
    grid: { left: 48, right: 64, top: 24, bottom: 48 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.points, axisLabel: { interval: 0, rotate: data.points.length > 8 ? 30 : 0 } },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series: [{
      name: "参保率", type: "bar", data: data.rates, barMaxWidth: 64,
      markLine: data.target === null ? undefined :
        { symbol: "none", data: [{ yAxis: data.target, name: "目标" }], label: { formatter: "目标 {c}%" } }
    }]
  });
  var pay = echarts.init(document.getElementById("pay_chart"));
  var series = Object.keys(data.series).map(function (name) {
    return { name: name, type: "bar", stack: "n", barMaxWidth: 48, data: data.series[name] };
  });
  pay.setOption({
    animation: false,
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 32, bottom: 32 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.days },
    yAxis: { type: "value", name: "笔数", minInterval: 1 },  // a count: no 0.5 笔
    series: series
  });
  window.addEventListener("resize", function () { rate.resize(); pay.resize(); });
  document.body.setAttribute("data-charts", "ready");
})();
