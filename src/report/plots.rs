//! The report's plots, drawn with plotters and the DejaVu font embedded in the binary (no
//! system fonts): the Pareto plot (PNG and SVG), the drift plot and the hypervolume plot.

use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};
use std::path::Path;

/// One evaluated network on the Pareto plot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Tiles.
    pub tiles: f64,
    /// Accuracy at 1 day, percent.
    pub acc: f64,
    /// AVM, points.
    pub avm: f64,
}

/// A labelled marker (a reference network, a measured network).
#[derive(Clone, Debug, PartialEq)]
pub struct Marked {
    /// Label drawn next to it.
    pub label: String,
    /// Tiles.
    pub tiles: f64,
    /// Accuracy at 1 day, percent.
    pub acc: f64,
}

/// What the Pareto plot shows.
#[derive(Clone, Debug, Default)]
pub struct ParetoData {
    /// Title.
    pub title: String,
    /// Every feasible evaluated network.
    pub evaluated: Vec<Point>,
    /// Evaluated networks over a budget.
    pub infeasible: Vec<Point>,
    /// The front, by tiles.
    pub front: Vec<Point>,
    /// Reference networks at their predicted accuracy.
    pub references: Vec<Marked>,
    /// Validated networks at their measured accuracy.
    pub measured: Vec<Marked>,
    /// The tile budget, drawn as a vertical line.
    pub tile_budget: Option<f64>,
}

/// One line of the drift plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// Legend label.
    pub label: String,
    /// `(seconds after programming, mean accuracy % over the training seeds, std over
    /// programmings)`: the line and its bars.
    pub points: Vec<(f64, f64, f64)>,
    /// `(seconds after programming, low, high)`: the 95 % confidence interval of the mean over
    /// the training seeds, drawn as a shaded band (empty with one seed).
    pub band: Vec<(f64, f64, f64)>,
    /// Reference networks are drawn dashed.
    pub reference: bool,
}

/// What the drift plot shows.
#[derive(Clone, Debug, Default)]
pub struct DriftData {
    /// Title.
    pub title: String,
    /// One curve per validated network.
    pub curves: Vec<Curve>,
    /// Shown instead of curves when there are none.
    pub note: String,
}

/// What the hypervolume plot shows.
#[derive(Clone, Debug, Default)]
pub struct HvData {
    /// Title.
    pub title: String,
    /// `(generation, normalised hypervolume)`.
    pub hv: Vec<(usize, f64)>,
    /// A line under the title (the reference point).
    pub note: String,
}

/// Registers the embedded DejaVu Sans as "sans-serif" (once per process).
pub fn register_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

const FONT: &str = "sans-serif";

/// Line colours of the validated front networks (Tableau 10 without its red and grey).
const FRONT_COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn plot_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, std::io::Error::other(format!("drawing failed: {e}")))
}

/// Viridis colour map on `t` in [0, 1].
pub fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (0.267, 0.005, 0.329),
        (0.229, 0.322, 0.546),
        (0.128, 0.567, 0.551),
        (0.369, 0.789, 0.383),
        (0.993, 0.906, 0.144),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let c = |p: f64, q: f64| ((p + (q - p) * f) * 255.0).round() as u8;
    RGBColor(c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
}

/// Tick values 1, 2, 5, 10, 20, 50, ... inside `lo..=hi`.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut v = Vec::new();
    let mut decade = 1.0;
    while decade <= hi * 10.0 {
        for m in [1.0, 2.0, 5.0] {
            let t = m * decade;
            if t >= lo && t <= hi {
                v.push(t);
            }
        }
        decade *= 10.0;
    }
    v
}

fn range_of(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Writes the Pareto plot as PNG (1400x900) and SVG.
pub fn pareto(png: &Path, svg: &Path, d: &ParetoData) -> Result<()> {
    register_fonts();
    {
        let root = BitMapBackend::new(png, (1400, 900)).into_drawing_area();
        draw_pareto(&root, d).map_err(|e| plot_error(png, e))?;
        root.present().map_err(|e| plot_error(png, e))?;
    }
    let root = SVGBackend::new(svg, (1400, 900)).into_drawing_area();
    draw_pareto(&root, d).map_err(|e| plot_error(svg, e))?;
    root.present().map_err(|e| plot_error(svg, e))?;
    Ok(())
}

type Drawn<DB> = std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw_pareto<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, d: &ParetoData) -> Drawn<DB> {
    root.fill(&WHITE)?;
    let width = root.dim_in_pixel().0;
    let (main, bar) = root.split_horizontally(width - 170);
    let all = || {
        d.evaluated
            .iter()
            .chain(&d.infeasible)
            .chain(&d.front)
            .copied()
    };
    let marks = || d.references.iter().chain(&d.measured);
    let (t_lo, t_hi) = range_of(
        all()
            .map(|p| p.tiles)
            .chain(marks().map(|m| m.tiles))
            .chain(d.tile_budget),
    )
    .unwrap_or((1.0, 10.0));
    let (a_lo, a_hi) =
        range_of(all().map(|p| p.acc).chain(marks().map(|m| m.acc))).unwrap_or((0.0, 100.0));
    // Zoom on the front: candidates far below it say little and would squash it.
    let (k_lo, _) = range_of(d.front.iter().map(|p| p.acc).chain(marks().map(|m| m.acc)))
        .unwrap_or((a_lo, a_hi));
    let a_lo = a_lo.max(k_lo - 12.0);
    let (v_lo, mut v_hi) = range_of(all().map(|p| p.avm)).unwrap_or((0.0, 1.0));
    if v_hi - v_lo < 1e-9 {
        v_hi = v_lo + 1.0;
    }
    let shade = |avm: f64| viridis((avm - v_lo) / (v_hi - v_lo));
    let x_lo = (t_lo * 0.8).max(0.5);
    let x_hi = t_hi * 1.25;
    let y_lo = (a_lo - 2.0).max(0.0);
    let y_hi = (a_hi + 2.0).min(101.0);

    let mut chart = ChartBuilder::on(&main)
        .caption(&d.title, (FONT, 26))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(80)
        .build_cartesian_2d(
            (x_lo..x_hi)
                .log_scale()
                .with_key_points(log_ticks(x_lo, x_hi)),
            y_lo..y_hi,
        )?;
    chart
        .configure_mesh()
        .x_desc("crossbar tiles occupied (log scale)")
        .y_desc("accuracy 1 day after programming (%)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 18))
        .axis_desc_style((FONT, 20))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()?;

    // Thin out points that would land on the same pixel (keeps the SVG small).
    let thin = |pts: &[Point]| {
        let mut seen = std::collections::HashSet::new();
        pts.iter()
            .filter(|p| p.acc >= y_lo)
            .filter(|p| seen.insert((p.tiles as i64, (p.acc * 5.0) as i64, (p.avm * 2.0) as i64)))
            .copied()
            .collect::<Vec<_>>()
    };
    if !d.infeasible.is_empty() {
        chart
            .draw_series(thin(&d.infeasible).into_iter().map(|p| {
                Circle::new(
                    (p.tiles, p.acc),
                    2,
                    RGBColor(150, 150, 150).mix(0.5).filled(),
                )
            }))?
            .label("over a budget")
            .legend(|(x, y)| Circle::new((x, y), 4, RGBColor(150, 150, 150).filled()));
    }
    chart
        .draw_series(
            thin(&d.evaluated)
                .into_iter()
                .map(|p| Circle::new((p.tiles, p.acc), 3, shade(p.avm).mix(0.4).filled())),
        )?
        .label(match d.evaluated.iter().filter(|p| p.acc < y_lo).count() {
            0 => "evaluated candidates (colour = AVM)".to_string(),
            n => format!("evaluated candidates (colour = AVM; {n} below {y_lo:.0} % not shown)"),
        })
        .legend(move |(x, y)| Circle::new((x, y), 4, viridis(0.5).filled()));
    if let Some(b) = d.tile_budget {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(b, y_lo), (b, y_hi)],
                8,
                6,
                RGBColor(200, 0, 0).stroke_width(2),
            ))?
            .label("tile budget")
            .legend(|(x, y)| {
                PathElement::new(
                    vec![(x - 10, y), (x + 10, y)],
                    RGBColor(200, 0, 0).stroke_width(2),
                )
            });
    }
    // The line joins the members that no other member beats on both accuracy and tiles (with
    // AVM as a third objective, some members win only on AVM and stand off the line).
    let mut line: Vec<Point> = d
        .front
        .iter()
        .filter(|p| {
            !d.front.iter().any(|q| {
                q.tiles <= p.tiles && q.acc >= p.acc && (q.tiles < p.tiles || q.acc > p.acc)
            })
        })
        .copied()
        .collect();
    line.sort_by(|a, b| a.tiles.total_cmp(&b.tiles).then(a.acc.total_cmp(&b.acc)));
    let mut stairs = Vec::new();
    for (i, p) in line.iter().enumerate() {
        if i > 0 {
            stairs.push((p.tiles, line[i - 1].acc));
        }
        stairs.push((p.tiles, p.acc));
    }
    chart
        .draw_series(LineSeries::new(stairs, BLACK.stroke_width(2)))?
        .label("Pareto front (predicted)")
        .legend(|(x, y)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(-12, 0), (12, 0)], BLACK.stroke_width(2))
                + Circle::new((0, 0), 5, BLACK.stroke_width(2))
        });
    chart.draw_series(d.front.iter().map(|p| {
        EmptyElement::at((p.tiles, p.acc))
            + Circle::new((0, 0), 6, shade(p.avm).filled())
            + Circle::new((0, 0), 6, BLACK.stroke_width(2))
    }))?;
    if !d.measured.is_empty() {
        chart
            .draw_series(d.measured.iter().map(|m| {
                EmptyElement::at((m.tiles, m.acc))
                    + Rectangle::new([(-6, -6), (6, 6)], RGBColor(0, 90, 200).stroke_width(3))
                    + Text::new(
                        m.label.clone(),
                        (9, 6),
                        (FONT, 16).into_font().color(&RGBColor(0, 50, 150)),
                    )
            }))?
            .label("validated networks (measured)")
            .legend(|(x, y)| {
                Rectangle::new(
                    [(x - 5, y - 5), (x + 5, y + 5)],
                    RGBColor(0, 90, 200).stroke_width(3),
                )
            });
    }
    if !d.references.is_empty() {
        chart
            .draw_series(d.references.iter().map(|m| {
                EmptyElement::at((m.tiles, m.acc))
                    + TriangleMarker::new((0, 0), 9, RGBColor(210, 0, 0).filled())
                    + Text::new(
                        m.label.clone(),
                        (10, -18),
                        (FONT, 16).into_font().color(&RGBColor(170, 0, 0)),
                    )
            }))?
            .label("reference networks (predicted)")
            .legend(|(x, y)| TriangleMarker::new((x, y), 7, RGBColor(210, 0, 0).filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 17))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.5))
        .draw()?;

    draw_colour_bar(
        &bar,
        v_lo,
        v_hi,
        "AVM: accuracy lost from 1 s to 30 days (points)",
    )
}

/// A vertical viridis bar for `lo..hi` with ticks and a rotated title, drawn in pixels.
fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lo: f64,
    hi: f64,
    title: &str,
) -> Drawn<DB> {
    let (_, h) = area.dim_in_pixel();
    let (top, bottom) = (80i32, h as i32 - 90);
    let (x0, x1) = (14i32, 44i32);
    let y_of = |v: f64| bottom - ((v - lo) / (hi - lo) * (bottom - top) as f64).round() as i32;
    for y in top..bottom {
        let v = lo + (hi - lo) * (bottom - y) as f64 / (bottom - top) as f64;
        area.draw(&Rectangle::new(
            [(x0, y), (x1, y + 1)],
            viridis((v - lo) / (hi - lo)).filled(),
        ))?;
    }
    area.draw(&Rectangle::new(
        [(x0, top), (x1, bottom)],
        BLACK.stroke_width(1),
    ))?;
    let span = hi - lo;
    let step = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]
        .into_iter()
        .find(|s| span / s <= 8.0)
        .unwrap_or(100.0);
    let mut t = (lo / step).ceil() * step;
    while t <= hi + 1e-9 {
        let y = y_of(t);
        area.draw(&PathElement::new(
            vec![(x1, y), (x1 + 5, y)],
            BLACK.stroke_width(1),
        ))?;
        let digits = if step < 1.0 { 1 } else { 0 };
        area.draw(&Text::new(
            format!("{t:.digits$}"),
            (x1 + 8, y - 8),
            (FONT, 16),
        ))?;
        t += step;
    }
    let style = (FONT, 17).into_font().transform(FontTransform::Rotate270);
    let len = 8 * title.chars().count() as i32;
    area.draw(&Text::new(
        title.to_string(),
        (x1 + 58, (top + bottom) / 2 + len / 2),
        style,
    ))?;
    Ok(())
}

/// Writes the drift plot (1200x800 PNG): accuracy against time after programming.
pub fn drift(png: &Path, d: &DriftData) -> Result<()> {
    register_fonts();
    let root = BitMapBackend::new(png, (1200, 800)).into_drawing_area();
    draw_drift(&root, d).map_err(|e| plot_error(png, e))?;
    root.present().map_err(|e| plot_error(png, e))
}

fn draw_drift<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, d: &DriftData) -> Drawn<DB> {
    root.fill(&WHITE)?;
    let times: Vec<f64> = crate::measure::DRIFT_TIMES.iter().map(|t| t.1).collect();
    let (lo, hi) = range_of(d.curves.iter().flat_map(|c| {
        c.points
            .iter()
            .flat_map(|p| [p.1 - p.2, p.1 + p.2])
            .chain(c.band.iter().flat_map(|b| [b.1, b.2]))
    }))
    .unwrap_or((0.0, 100.0));
    let mut chart = ChartBuilder::on(root)
        .caption(&d.title, (FONT, 26))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(80)
        .build_cartesian_2d(
            (0.5f64..6.0e7).log_scale().with_key_points(times),
            (lo - 2.0).max(0.0)..(hi + 2.0).min(101.0),
        )?;
    chart
        .configure_mesh()
        .x_desc("time after programming (seconds, log scale)")
        .y_desc("test accuracy (%): mean, 95 % CI band over seeds, ± programming std")
        .x_label_formatter(&|t| crate::measure::time_label(*t))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 18))
        .axis_desc_style((FONT, 20))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()?;
    if d.curves.is_empty() {
        let (w, h) = root.dim_in_pixel();
        let style =
            TextStyle::from((FONT, 22).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new(
            d.note.clone(),
            (w as i32 / 2, h as i32 / 2),
            style,
        ))?;
        return Ok(());
    }
    let mut front_k = 0;
    for c in &d.curves {
        let color = if c.reference {
            [
                RGBColor(200, 0, 0),
                RGBColor(90, 90, 90),
                RGBColor(150, 80, 0),
            ][(c.label.len() + front_k) % 3]
        } else {
            front_k += 1;
            FRONT_COLOURS[(front_k - 1) % FRONT_COLOURS.len()]
        };
        let style = color.stroke_width(3);
        if c.band.len() >= 2 {
            let outline: Vec<(f64, f64)> = c
                .band
                .iter()
                .map(|b| (b.0, b.2))
                .chain(c.band.iter().rev().map(|b| (b.0, b.1)))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                color.mix(0.18).filled(),
            )))?;
        }
        let pts: Vec<(f64, f64)> = c.points.iter().map(|p| (p.0, p.1)).collect();
        let anno = if c.reference {
            chart.draw_series(DashedLineSeries::new(pts.clone(), 10, 6, style))?
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), style))?
        };
        let reference = c.reference;
        anno.label(c.label.clone()).legend(move |(x, y)| {
            let gap = if reference { 4 } else { 0 };
            EmptyElement::at((x, y))
                + PathElement::new(vec![(-14, 0), (-gap, 0)], style)
                + PathElement::new(vec![(gap, 0), (14, 0)], style)
        });
        chart.draw_series(c.points.iter().map(|&(t, m, s)| {
            PathElement::new(vec![(t, m - s), (t, m + s)], color.stroke_width(2))
        }))?;
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 5, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.5))
        .draw()?;
    Ok(())
}

/// Writes the hypervolume plot (1200x700 PNG).
pub fn hypervolume(png: &Path, d: &HvData) -> Result<()> {
    register_fonts();
    let root = BitMapBackend::new(png, (1200, 700)).into_drawing_area();
    draw_hv(&root, d).map_err(|e| plot_error(png, e))?;
    root.present().map_err(|e| plot_error(png, e))
}

fn draw_hv<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, d: &HvData) -> Drawn<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(&d.title, (FONT, 26))?;
    let (note, body) = root.split_vertically(36);
    note.draw(&Text::new(d.note.clone(), (90, 6), (FONT, 17)))?;
    let g_hi = d.hv.last().map_or(1, |p| p.0).max(1) as f64;
    let (lo, hi) = range_of(d.hv.iter().map(|p| p.1)).unwrap_or((0.0, 1.0));
    let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.01).max(1e-6);
    let mut chart = ChartBuilder::on(&body)
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..g_hi, (lo - pad).max(0.0)..hi + pad)?;
    chart
        .configure_mesh()
        .x_desc("generation")
        .y_desc("hypervolume / volume of the reference box")
        .x_label_formatter(&|g| format!("{g:.0}"))
        .y_label_formatter(&|v| format!("{v:.3}"))
        .label_style((FONT, 18))
        .axis_desc_style((FONT, 20))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()?;
    chart.draw_series(LineSeries::new(
        d.hv.iter().map(|&(g, v)| (g as f64, v)),
        RGBColor(0, 90, 200).stroke_width(3),
    ))?;
    if d.hv.len() <= 60 {
        chart.draw_series(
            d.hv.iter()
                .map(|&(g, v)| Circle::new((g as f64, v), 4, RGBColor(0, 90, 200).filled())),
        )?;
    }
    Ok(())
}

/// One series of an [`xy`] plot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// `(x, y)` points, joined by a line unless `markers_only`.
    pub points: Vec<(f64, f64)>,
    /// `(x, low, high)`: a shaded band (a 95 % interval), or empty.
    pub band: Vec<(f64, f64, f64)>,
    /// Draw the points as markers without a line (a scatter).
    pub markers_only: bool,
}

/// What an [`xy`] plot shows.
#[derive(Clone, Debug, Default)]
pub struct XyData {
    /// Title.
    pub title: String,
    /// A line under the title.
    pub note: String,
    /// Axis descriptions.
    pub x_desc: String,
    /// Axis descriptions.
    pub y_desc: String,
    /// The series, coloured in order.
    pub series: Vec<Series>,
    /// Draw the line y = x (predicted against measured).
    pub diagonal: bool,
}

/// Writes a plot of lines, bands and scatters (1200x700 PNG): curves against measurements
/// spent, predicted against measured.
pub fn xy(png: &Path, d: &XyData) -> Result<()> {
    register_fonts();
    let root = BitMapBackend::new(png, (1200, 700)).into_drawing_area();
    draw_xy(&root, d).map_err(|e| plot_error(png, e))?;
    root.present().map_err(|e| plot_error(png, e))
}

fn draw_xy<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, d: &XyData) -> Drawn<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(&d.title, (FONT, 24))?;
    let (note, body) = root.split_vertically(36);
    note.draw(&Text::new(d.note.clone(), (90, 6), (FONT, 16)))?;
    let xs = d.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.0)
            .chain(s.band.iter().map(|b| b.0))
    });
    let ys = d.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.1)
            .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
    });
    let (mut x0, mut x1) = range_of(xs).unwrap_or((0.0, 1.0));
    let (mut y0, mut y1) = range_of(ys).unwrap_or((0.0, 1.0));
    if d.diagonal {
        (x0, x1) = (x0.min(y0), x1.max(y1));
        (y0, y1) = (x0, x1);
    }
    let px = ((x1 - x0) * 0.04).max(1e-6);
    let py = ((y1 - y0) * 0.06).max(1e-6);
    let mut chart = ChartBuilder::on(&body)
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(x0 - px..x1 + px, y0 - py..y1 + py)?;
    chart
        .configure_mesh()
        .x_desc(d.x_desc.as_str())
        .y_desc(d.y_desc.as_str())
        .label_style((FONT, 18))
        .axis_desc_style((FONT, 20))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()?;
    if d.diagonal {
        chart.draw_series(LineSeries::new(
            [(x0, x0), (x1, x1)],
            BLACK.mix(0.4).stroke_width(1),
        ))?;
    }
    for (i, s) in d.series.iter().enumerate() {
        let color = FRONT_COLOURS[i % FRONT_COLOURS.len()];
        if s.band.len() >= 2 {
            let mut poly: Vec<(f64, f64)> = s.band.iter().map(|b| (b.0, b.1)).collect();
            poly.extend(s.band.iter().rev().map(|b| (b.0, b.2)));
            chart.draw_series(std::iter::once(Polygon::new(
                poly,
                color.mix(0.18).filled(),
            )))?;
        }
        let anno = if s.markers_only {
            chart.draw_series(
                s.points
                    .iter()
                    .map(|&p| Circle::new(p, 4, color.mix(0.8).filled())),
            )?
        } else {
            chart.draw_series(LineSeries::new(
                s.points.iter().copied(),
                color.stroke_width(3),
            ))?
        };
        anno.label(s.label.clone()).legend(move |(x, y)| {
            PathElement::new(vec![(x - 14, y), (x + 14, y)], color.stroke_width(3))
        });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.5))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_map_ends_and_ticks() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(log_ticks(3.0, 60.0), vec![5.0, 10.0, 20.0, 50.0]);
    }
}
