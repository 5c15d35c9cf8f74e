//! Enums stored as one of a few words (`public`, `mentions`, ...): each
//! variant's word is written once, for storing and for reading back.

/// `as_str`, `ToSql` and `FromSql` for `$enum`, from its variants' words;
/// an unknown word read back is a type error.
macro_rules! stored_as_words {
    ($enum:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $enum {
            fn as_str(self) -> &'static str {
                match self {
                    $($enum::$variant => $word,)+
                }
            }
        }

        impl rusqlite::types::ToSql for $enum {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.as_str()))
            }
        }

        impl rusqlite::types::FromSql for $enum {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                match value.as_str()? {
                    $($word => Ok($enum::$variant),)+
                    _ => Err(rusqlite::types::FromSqlError::InvalidType),
                }
            }
        }
    };
}

pub(crate) use stored_as_words;

#[cfg(test)]
mod tests {
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Tone {
        Loud,
        Soft,
    }

    stored_as_words!(Tone {
        Loud => "loud",
        Soft => "soft",
    });

    #[test]
    fn words_go_in_and_come_back_and_others_are_refused() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for tone in [Tone::Loud, Tone::Soft] {
            let stored: String = conn.query_row("SELECT ?1", [tone], |r| r.get(0)).unwrap();
            assert_eq!(stored, tone.as_str());
            let back: Tone = conn.query_row("SELECT ?1", [tone], |r| r.get(0)).unwrap();
            assert_eq!(back, tone);
        }
        let other = conn.query_row("SELECT 'Loud'", [], |r| r.get::<_, Tone>(0));
        assert!(other.is_err(), "{other:?}");
    }
}
