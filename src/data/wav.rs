//! WAV input through the `hound` crate: 16-bit PCM samples (what Google Speech Commands holds).

use super::{DataError, in_file, read_file};
use crate::error::Result;
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

/// What [`parse`] reads, for errors.
const EXPECTED: &str = "a RIFF WAVE file of 16-bit PCM samples with fmt and data chunks";

/// A hound error on the header as a format error.
fn header_error(e: hound::Error) -> DataError {
    let got = match e {
        hound::Error::FormatError(what) => what.to_string(),
        // The bytes are in memory: an I/O error means that they ran out.
        hound::Error::IoError(_) => "the end of the file".to_string(),
        e => e.to_string(),
    };
    DataError::format("WAV header", EXPECTED, got)
}

/// Parses a RIFF WAVE file of 16-bit integer PCM samples (plain or `WAVE_FORMAT_EXTENSIBLE`).
/// Chunks other than `fmt ` and `data` are skipped by their declared size (hound does not skip
/// the pad byte that RIFF puts after a chunk of odd size).
pub fn parse(b: &[u8]) -> Result<Wav> {
    let mut reader = hound::WavReader::new(b).map_err(header_error)?;
    let spec = reader.spec();
    if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample != 16 {
        let kind = match spec.sample_format {
            hound::SampleFormat::Int => "integer",
            hound::SampleFormat::Float => "float",
        };
        let got = format!("{}-bit {kind} samples", spec.bits_per_sample);
        return Err(DataError::format("fmt chunk", "16-bit integer PCM samples", got).into());
    }
    let declared = reader.len() as usize * 2;
    let samples = reader
        .samples::<i16>()
        .collect::<std::result::Result<Vec<i16>, _>>()
        .map_err(|e| {
            let got = match e {
                hound::Error::IoError(_) => "fewer (the file ends early)".to_string(),
                e => e.to_string(),
            };
            DataError::format("data chunk", format!("{declared} bytes of samples"), got)
        })?;
    Ok(Wav {
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        samples,
    })
}

/// Reads a WAV file and checks that it is mono at `sample_rate`; returns its samples as f32
/// in [-1, 1).
pub fn read_mono(path: &Path, sample_rate: u32) -> Result<Vec<f32>> {
    let b = read_file(path, "a 16-bit PCM WAV file")?;
    let w = parse(&b).map_err(in_file(path))?;
    let named = |field: &str, expected: String, got: String| DataError::Format {
        file: path.display().to_string(),
        field: field.into(),
        expected,
        got,
    };
    if w.channels != 1 {
        let got = format!("{} channels", w.channels);
        return Err(named("channels", "1 (mono audio)".into(), got).into());
    }
    if w.sample_rate != sample_rate {
        let (want, got) = (format!("{sample_rate} Hz"), format!("{} Hz", w.sample_rate));
        return Err(named("sample rate", want, got).into());
    }
    Ok(w.mono_f32())
}

/// Pads with zeros or trims (keeping the start) to exactly `n` samples.
pub fn fit_length(mut x: Vec<f32>, n: usize) -> Vec<f32> {
    x.resize(n, 0.0);
    x
}

/// Encodes 16-bit PCM samples as a WAV file with a 44-byte header (for tests and small tools).
///
/// # Panics
/// If `channels` is 0 or `samples.len()` is not a multiple of it.
pub fn encode(samples: &[i16], sample_rate: u32, channels: u16) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::with_capacity(44 + 2 * samples.len()));
    let mut w = hound::WavWriter::new(&mut out, spec).expect("writing to memory");
    for &s in samples {
        w.write_sample(s).expect("writing to memory");
    }
    w.finalize().expect("whole frames of samples");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;

    #[test]
    fn wav_round_trips_and_skips_other_chunks() {
        let samples: Vec<i16> = vec![0, 1, -1, 32767, -32768, 1000];
        let b = encode(&samples, 16000, 1);
        let w = parse(&b).unwrap();
        assert_eq!((w.sample_rate, w.channels), (16000, 1));
        assert_eq!(w.samples, samples);
        assert_eq!(w.mono_f32()[3], 32767.0 / 32768.0);
        assert_eq!(w.mono_f32()[4], -1.0);

        // A LIST chunk between fmt and data is skipped.
        let mut with_list = b[..36].to_vec();
        with_list.extend_from_slice(b"LIST");
        with_list.extend_from_slice(&4u32.to_le_bytes());
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
        check(
            b"not a wav at all",
            "WAV header: expected a RIFF WAVE file of 16-bit PCM samples with fmt and data \
             chunks, got no RIFF tag found",
        );
        check(
            &good[..good.len() - 10],
            "data chunk: expected 200 bytes of samples, got fewer (the file ends early)",
        );
        let mut float = good.clone();
        float[20] = 3;
        check(&float, "WAV header: expected a RIFF WAVE file");
        let mut bits8 = std::io::Cursor::new(Vec::new());
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16000,
            bits_per_sample: 8,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::new(&mut bits8, spec).unwrap();
        w.write_sample(3i8).unwrap();
        w.finalize().unwrap();
        check(
            bits8.get_ref(),
            "fmt chunk: expected 16-bit integer PCM samples, got 8-bit integer samples",
        );
        check(
            &encode(&[5; 100], 44100, 1),
            "sample rate: expected 16000 Hz, got 44100 Hz",
        );
        check(
            &encode(&[5; 100], 16000, 2),
            "channels: expected 1 (mono audio), got 2 channels",
        );
        check(
            &good[..36],
            "WAV header: expected a RIFF WAVE file of 16-bit PCM samples with fmt and data chunks, got the end of the file",
        );
        let e = read_mono(&dir.join("missing.wav"), 16000)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.wav: file not found"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
