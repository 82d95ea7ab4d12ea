//! Pictures generated at build time as inline SVG: the replication map and a
//! practice's stage timeline. No script, no tiles, no fonts to fetch; the
//! templates put a table or list of the same facts beside each picture.

use std::fmt::Write as _;

use crate::config::Config;
use crate::index::{Edge, Practice};
use crate::model::Stage;
use crate::site::Site;
use crate::text::escape_html;

const W: f64 = 640.0;

/// The part of the replication map every map shares: the projection and each
/// city's dot and label, drawn once per build.
pub struct MapLayout {
    /// (key, x, y) of each city with coordinates.
    places: Vec<(String, f64, f64)>,
    height: f64,
    /// Each city's `<g>`, as drawn when no arrow touches it and when one does.
    idle: Vec<String>,
    active: Vec<String>,
}

impl MapLayout {
    /// `None` when no city has coordinates.
    pub fn new(config: &Config) -> Option<MapLayout> {
        let placed: Vec<(&str, &str, f64, f64)> = config
            .cities
            .iter()
            .filter_map(|c| Some((c.key.as_str(), c.name.as_str(), c.lat?, c.lon?)))
            .collect();
        if placed.is_empty() {
            return None;
        }
        let (mut min_lat, mut max_lat, mut min_lon, mut max_lon) =
            (90.0f64, -90.0f64, 180.0f64, -180.0f64);
        for &(_, _, lat, lon) in &placed {
            min_lat = min_lat.min(lat);
            max_lat = max_lat.max(lat);
            min_lon = min_lon.min(lon);
            max_lon = max_lon.max(lon);
        }
        let k = ((min_lat + max_lat) / 2.0).to_radians().cos().max(0.2);
        let span_x = ((max_lon - min_lon) * k).max(1.0);
        let span_y = (max_lat - min_lat).max(1.0);
        let pad = 56.0;
        let scale = ((W - 2.0 * pad) / span_x).min(420.0 / span_y);
        let height = (span_y * scale + 2.0 * pad).round();
        let x_off = (W - span_x * scale) / 2.0;
        let project = |lat: f64, lon: f64| {
            (
                (lon - min_lon) * k * scale + x_off,
                (max_lat - lat) * scale + pad,
            )
        };
        let places: Vec<(String, f64, f64)> = placed
            .iter()
            .map(|&(key, _, lat, lon)| {
                let (x, y) = project(lat, lon);
                (key.to_owned(), x, y)
            })
            .collect();
        let mut idle = Vec::with_capacity(placed.len());
        let mut active = Vec::with_capacity(placed.len());
        for (&(_, name, _, _), (key, x, y)) in placed.iter().zip(&places) {
            let (x, y) = (*x, *y);
            // Put the label on the left when the right is crowded by a neighbour or the edge.
            let crowded = places
                .iter()
                .any(|(k, ox, oy)| k != key && *ox > x && ox - x < 90.0 && (oy - y).abs() < 32.0);
            let anchor = if x > W - 120.0 || crowded {
                "end"
            } else {
                "start"
            };
            let tx = if anchor == "end" { x - 9.0 } else { x + 9.0 };
            let draw = |class: &str| {
                format!(
                    "<g class=\"{class}\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\"/><text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text></g>",
                    y + 4.0,
                    escape_html(name)
                )
            };
            idle.push(draw("map-city"));
            active.push(draw("map-city map-city-active"));
        }
        Some(MapLayout {
            places,
            height,
            idle,
            active,
        })
    }

    /// The map with arrows from origin to adopting city, weighted by the number of practices.
    pub fn render(&self, edges: &[Edge], title: &str) -> String {
        let pos = |key: &str| {
            self.places
                .iter()
                .find(|c| c.0 == key)
                .map(|(_, x, y)| (*x, *y))
        };
        let h = self.height;
        let mut svg = String::with_capacity(4096);
        let _ = write!(
            svg,
            "<svg class=\"map\" viewBox=\"0 0 {W} {h}\" role=\"img\" aria-label=\"{t}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title>",
            t = escape_html(title)
        );
        svg.push_str("<defs><marker id=\"cb-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"12\" markerHeight=\"12\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" class=\"map-arrowhead\"/></marker></defs>");
        let max = edges.iter().map(|e| e.practices.len()).max().unwrap_or(1) as f64;
        for e in edges {
            let (Some((x1, y1)), Some((x2, y2))) = (pos(&e.from), pos(&e.to)) else {
                continue;
            };
            let (dx, dy) = (x2 - x1, y2 - y1);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            // Stop short of the city dot, and bow the line so A->B and B->A stay apart.
            let (ux, uy) = (dx / len, dy / len);
            let (sx, sy, ex, ey) = (x1 + ux * 9.0, y1 + uy * 9.0, x2 - ux * 11.0, y2 - uy * 11.0);
            let bow = (len * 0.18).min(60.0);
            let (cx, cy) = ((sx + ex) / 2.0 + uy * bow, (sy + ey) / 2.0 - ux * bow);
            let width = 1.5 + 4.5 * (e.practices.len() as f64 / max);
            let _ = write!(
                svg,
                "<path class=\"map-edge\" d=\"M{sx:.1},{sy:.1} Q{cx:.1},{cy:.1} {ex:.1},{ey:.1}\" stroke-width=\"{width:.1}\" marker-end=\"url(#cb-arrow)\"/>"
            );
        }
        for (i, (key, _, _)) in self.places.iter().enumerate() {
            let involved = edges.iter().any(|e| &e.from == key || &e.to == key);
            svg.push_str(if involved {
                &self.active[i]
            } else {
                &self.idle[i]
            });
        }
        svg.push_str("</svg>");
        svg
    }
}

/// Years across, cities down: one mark per case study, shaped by stage.
pub fn timeline(site: &Site, practice: &Practice) -> String {
    let cases: Vec<_> = practice
        .cases
        .iter()
        .map(|&i| &site.studies[i])
        .filter(|s| s.date.is_some() && s.city.is_some())
        .collect();
    if cases.is_empty() {
        return String::new();
    }
    let years: Vec<i32> = cases
        .iter()
        .filter_map(|s| s.date.map(|d| d.year))
        .collect();
    let (y0, y1) = (
        *years.iter().min().unwrap_or(&2000),
        *years.iter().max().unwrap_or(&2000),
    );
    let mut rows: Vec<&str> = Vec::new();
    for c in &site.config.cities {
        if cases
            .iter()
            .any(|s| s.city.as_deref() == Some(c.key.as_str()))
        {
            rows.push(c.key.as_str());
        }
    }
    let left = 130.0;
    let right = 30.0;
    let row_h = 34.0;
    let top = 20.0;
    let h = top + row_h * rows.len() as f64 + 40.0;
    let span = f64::from((y1 - y0).max(1));
    let x_of = |year: i32| left + (W - left - right) * f64::from(year - y0) / span;
    let title = format!("Timeline of {} by city and year", practice.name);
    let mut svg = String::with_capacity(2048);
    let _ = write!(
        svg,
        "<svg class=\"timeline\" viewBox=\"0 0 {W} {h}\" role=\"img\" aria-label=\"{t}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title>",
        t = escape_html(&title)
    );
    let axis_y = top + row_h * rows.len() as f64 + 6.0;
    let step = ((y1 - y0) / 8 + 1).max(1);
    let mut year = y0;
    while year <= y1.max(y0 + 1) {
        let x = x_of(year);
        let _ = write!(
            svg,
            "<line class=\"tl-grid\" x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{axis_y}\"/><text class=\"tl-year\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{year}</text>",
            axis_y + 18.0
        );
        year += step;
    }
    for (r, key) in rows.iter().enumerate() {
        let y = top + row_h * r as f64 + row_h / 2.0;
        let name = site.config.city(key).map_or(*key, |c| c.name.as_str());
        let _ = write!(
            svg,
            "<text class=\"tl-city\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 12.0,
            y + 4.0,
            escape_html(name)
        );
        let _ = write!(
            svg,
            "<line class=\"tl-row\" x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/>",
            W - right
        );
        for s in cases.iter().filter(|s| s.city.as_deref() == Some(*key)) {
            let x = x_of(s.date.map_or(y0, |d| d.year));
            let stage = s.stage.unwrap_or(Stage::Pilot);
            let label = format!(
                "{}: {} ({})",
                name,
                stage.label(),
                s.date.map(|d| d.year).unwrap_or_default()
            );
            let shape = match stage {
                Stage::Pilot => format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" class=\"tl-mark tl-pilot\"/>"),
                Stage::Replicated => format!("<rect x=\"{:.1}\" y=\"{:.1}\" width=\"13\" height=\"13\" class=\"tl-mark tl-replicated\"/>", x - 6.5, y - 6.5),
                Stage::Scaled => format!("<path d=\"M{x:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} z\" class=\"tl-mark tl-scaled\"/>", y - 9.0, x + 8.0, y + 6.0, x - 8.0, y + 6.0),
                Stage::Discontinued => format!(
                    "<path d=\"M{:.1},{:.1} L{:.1},{:.1} M{:.1},{:.1} L{:.1},{:.1}\" class=\"tl-mark tl-discontinued\"/>",
                    x - 6.0, y - 6.0, x + 6.0, y + 6.0, x - 6.0, y + 6.0, x + 6.0, y - 6.0
                ),
            };
            let _ = write!(svg, "<g><title>{}</title>{shape}</g>", escape_html(&label));
        }
    }
    svg.push_str("</svg>");
    svg
}
