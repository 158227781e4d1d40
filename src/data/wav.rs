//! A reader of RIFF WAVE files with 16-bit PCM samples (what Google Speech Commands holds).

use super::{in_file, read_file};
use crate::error::{Error, Result};
use std::path::Path;

/// A decoded WAV file.
#[derive(Clone, Debug, PartialEq)]
pub struct Wav {
    /// Samples per second.
    pub sample_rate: u32,
    /// Number of interleaved channels.
    pub channels: u16,
    /// The samples, interleaved by channel.
    pub samples: Vec<i16>,
}

impl Wav {
    /// The first channel as f32 in [-1, 1).
    pub fn mono_f32(&self) -> Vec<f32> {
        self.samples
            .iter()
            .step_by(self.channels.max(1) as usize)
            .map(|&s| s as f32 / 32768.0)
            .collect()
    }
}

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 1;
/// `WAVE_FORMAT_EXTENSIBLE` (the sub-format must then be PCM).
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses a RIFF WAVE file of 16-bit PCM samples (plain or `WAVE_FORMAT_EXTENSIBLE`).
/// Chunks other than `fmt ` and `data` are skipped.
pub fn parse(b: &[u8]) -> Result<Wav> {
    if b.len() < 12 || &b[0..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        return Err(Error::input(
            "not a WAV file: expected a RIFF header with WAVE type",
        ));
    }
    let mut at = 12;
    let mut fmt: Option<(u16, u32, u16)> = None;
    while at + 8 <= b.len() {
        let id = &b[at..at + 4];
        let size = le_u32(b, at + 4) as usize;
        let body = at + 8;
        let end = body.checked_add(size).filter(|&e| e <= b.len());
        match id {
            b"fmt " => {
                let end = end.ok_or_else(|| Error::input("truncated fmt chunk"))?;
                if size < 16 {
                    return Err(Error::input(format!(
                        "fmt chunk: expected at least 16 bytes, got {size}"
                    )));
                }
                let mut tag = le_u16(b, body);
                let channels = le_u16(b, body + 2);
                let rate = le_u32(b, body + 4);
                let bits = le_u16(b, body + 14);
                if tag == FORMAT_EXTENSIBLE && size >= 40 && end >= body + 26 {
                    tag = le_u16(b, body + 24);
                }
                if tag != FORMAT_PCM {
                    return Err(Error::input(format!(
                        "unsupported WAV format: expected PCM (format 1), got format {tag}"
                    )));
                }
                if bits != 16 {
                    return Err(Error::input(format!(
                        "unsupported WAV format: expected 16-bit PCM, got {bits}-bit"
                    )));
                }
                if channels == 0 {
                    return Err(Error::input(
                        "fmt chunk: expected at least one channel, got 0",
                    ));
                }
                fmt = Some((channels, rate, bits));
            }
            b"data" => {
                let Some((channels, sample_rate, _)) = fmt else {
                    return Err(Error::input("data chunk before the fmt chunk"));
                };
                let end = end.ok_or_else(|| {
                    Error::input(format!(
                        "truncated: data chunk declares {size} bytes, file has {}",
                        b.len() - body
                    ))
                })?;
                let samples = b[body..end]
                    .chunks_exact(2)
                    .map(|s| i16::from_le_bytes([s[0], s[1]]))
                    .collect();
                return Ok(Wav {
                    sample_rate,
                    channels,
                    samples,
                });
            }
            _ => {}
        }
        at = body.saturating_add(size).saturating_add(size & 1);
    }
    Err(Error::input(if fmt.is_none() {
        "no fmt chunk: expected a RIFF WAVE file with fmt and data chunks"
    } else {
        "no data chunk: expected a RIFF WAVE file with fmt and data chunks"
    }))
}

/// Reads a WAV file and checks that it is mono at `sample_rate`; returns its samples as f32
/// in [-1, 1).
pub fn read_mono(path: &Path, sample_rate: u32) -> Result<Vec<f32>> {
    let b = read_file(path, "a 16-bit PCM WAV file")?;
    let w = parse(&b).map_err(in_file(path))?;
    if w.channels != 1 {
        return Err(Error::input(format!(
            "{}: expected mono audio, got {} channels",
            path.display(),
            w.channels
        )));
    }
    if w.sample_rate != sample_rate {
        return Err(Error::input(format!(
            "{}: expected {sample_rate} Hz audio, got {} Hz",
            path.display(),
            w.sample_rate
        )));
    }
    Ok(w.mono_f32())
}

/// Pads with zeros or trims (keeping the start) to exactly `n` samples.
pub fn fit_length(mut x: Vec<f32>, n: usize) -> Vec<f32> {
    x.resize(n, 0.0);
    x
}

/// Encodes 16-bit PCM samples as a WAV file (for tests and small tools).
pub fn encode(samples: &[i16], sample_rate: u32, channels: u16) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&FORMAT_PCM.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&sample_rate.to_le_bytes());
    b.extend_from_slice(&(sample_rate * channels as u32 * 2).to_le_bytes());
    b.extend_from_slice(&(channels * 2).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_utils::temp_dir;

    #[test]
    fn wav_round_trips_and_skips_other_chunks() {
        let samples: Vec<i16> = vec![0, 1, -1, 32767, -32768, 1000];
        let b = encode(&samples, 16000, 1);
        let w = parse(&b).unwrap();
        assert_eq!((w.sample_rate, w.channels), (16000, 1));
        assert_eq!(w.samples, samples);
        assert_eq!(w.mono_f32()[3], 32767.0 / 32768.0);
        assert_eq!(w.mono_f32()[4], -1.0);

        // A LIST chunk of odd size (padded) between fmt and data.
        let mut with_list = b[..36].to_vec();
        with_list.extend_from_slice(b"LIST");
        with_list.extend_from_slice(&3u32.to_le_bytes());
        with_list.extend_from_slice(&[1, 2, 3, 0]);
        with_list.extend_from_slice(&b[36..]);
        assert_eq!(parse(&with_list).unwrap().samples, samples);

        let stereo = parse(&encode(&[1, 2, 3, 4], 8000, 2)).unwrap();
        assert_eq!(stereo.mono_f32().len(), 2);
        assert_eq!(fit_length(vec![1.0; 3], 5), vec![1.0, 1.0, 1.0, 0.0, 0.0]);
        assert_eq!(fit_length(vec![1.0, 2.0, 3.0], 2), vec![1.0, 2.0]);
    }

    #[test]
    fn wav_errors_name_the_file_and_the_problem() {
        let dir = temp_dir("wav");
        let p = dir.join("clip.wav");
        let check = |bytes: &[u8], needle: &str| {
            std::fs::write(&p, bytes).unwrap();
            let e = read_mono(&p, 16000).unwrap_err().to_string();
            assert!(e.contains("clip.wav: ") && e.contains(needle), "{e}");
            assert!(!e.contains('\n'));
        };
        let good = encode(&[5; 100], 16000, 1);
        check(b"not a wav at all", "expected a RIFF header");
        check(
            &good[..good.len() - 10],
            "truncated: data chunk declares 200 bytes",
        );
        let mut float = good.clone();
        float[20] = 3;
        check(&float, "expected PCM (format 1), got format 3");
        let mut bits8 = good.clone();
        bits8[34] = 8;
        check(&bits8, "expected 16-bit PCM, got 8-bit");
        check(
            &encode(&[5; 100], 44100, 1),
            "expected 16000 Hz audio, got 44100 Hz",
        );
        check(
            &encode(&[5; 100], 16000, 2),
            "expected mono audio, got 2 channels",
        );
        check(&good[..36], "no data chunk");
        let e = read_mono(&dir.join("missing.wav"), 16000)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.wav: file not found"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
