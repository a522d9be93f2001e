"""The exporter's person-level data check."""
import pytest

from app.exchange.errors import PersonalDataFound
from app.exchange.privacy import find_personal_data, refuse_personal_data


def test_aggregate_figures_about_personal_fields_pass():
    run = {"field_null_rates": {"left": {"ssn": 0.02, "dob": 0.0, "first_name": 0.1}},
           "matching_files": [{"fields": ["LastName", "FirstName", "DOB", "SSN"], "expected_rows": 36000}],
           "notes": "DSA executed 2024-05-01; phone 860-555-1234", "method": {"sha256": "ab" * 32}}
    assert find_personal_data(run) == []


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"records": [{"first_name": "Ana", "dob": "2001-04-05"}]}, "records[0].first_name"),
        ({"notes": "the student's SSN is 123-45-6789"}, "notes"),
        ({"x": {"y": ["123456789"]}}, "x.y[0]"),
        ({"student": "1234567890"}, "student"),
        ({"row": "SMITH, JOHN 2001-04-05"}, "row"),
        ({"row": "John Smith 4/5/2001"}, "row"),
        ({"paste": "A\tB\tC\nD\tE\tF\nG\tH\tI"}, "paste"),
        ({"SyntheticID": ["X1", "X2"]}, "SyntheticID"),
    ],
)
def test_person_shaped_data_is_found(payload, where):
    found = find_personal_data(payload)
    assert found and found[0].startswith(where)
    with pytest.raises(PersonalDataFound, match="never carry person-level data"):
        refuse_personal_data(payload, "work order")
