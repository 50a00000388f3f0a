"""Pydantic models of the seven voucher endpoints' requests and responses.

Python names are snake_case; the wire names (aliases) are exactly the documented ones:
camelCase for most endpoints, snake_case where the vendor uses it (``page_number``,
``voucher_id``, the usage rows). Paging is ``page_number``/``page_length`` on every
listing, queryVoucherUsedInfo included. Ids are always ``str`` (an int is accepted and
turned into its exact text; a float is refused because it may already have lost digits).
Money and amounts are text. Requests forbid unknown fields (a typo is an error);
responses keep unknown fields.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal, get_args

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from runner.keys import KEY_KINDS

__all__ = [
    "CUSTOMER_KEYS",
    "MAX_PAGE_LENGTH",
    "OPERATIONS",
    "AddVoucherRequest",
    "AddVoucherResponse",
    "CmDepartment",
    "CmDistrict",
    "CmInfo",
    "CmLabel",
    "CmLevel",
    "CmType",
    "FinishVoucherRequest",
    "GetCmInfosRequest",
    "GetVoucherInfosRequest",
    "ModifyVoucherEndDateRequest",
    "Operation",
    "PdInfo",
    "ProdBrand",
    "ProdType",
    "QueryVoucherUsedInfoRequest",
    "ReceiveVoucherRequest",
    "UseStatus",
    "VoucherInfo",
    "VoucherUsage",
]

Operation = Literal[
    "getVoucherInfos",
    "addVoucherInfo",
    "finishVoucher",
    "modifyVoucherEndDate",
    "receiveVoucherInfo",
    "getCmInfos",
    "queryVoucherUsedInfo",
]
OPERATIONS: tuple[Operation, ...] = get_args(Operation)
UseStatus = Literal["0", "1", "2"]
CUSTOMER_KEYS = KEY_KINDS
MAX_PAGE_LENGTH = 1000


# --- field types ----------------------------------------------------------------------


def _exact_id(value: object) -> object:
    """Ids as exact text: ints become their digits, floats are refused."""
    if isinstance(value, bool):
        raise ValueError("an id cannot be true/false")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        raise ValueError("an id given as a number with a fraction may have lost digits")
    if isinstance(value, str):
        return value.strip()
    return value


def _count(value: object) -> object:
    """Counts arrive as text ("2", "2.000") from the exact envelope; empty text is None."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return value
        return int(number) if number == number.to_integral_value() else value
    return value


def _none_is_empty(value: object) -> object:
    return [] if value is None else value


def _date_text(value: object) -> object:
    """A ``date`` becomes ``yyyy-MM-dd``; text is kept."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def _datetime_text(value: object) -> object:
    """A ``datetime`` becomes ``yyyy-MM-dd HH:mm:ss``; text is kept."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


IdStr = Annotated[str, BeforeValidator(_exact_id)]
Count = Annotated[int, BeforeValidator(_count)]
DateText = Annotated[str, BeforeValidator(_date_text)]
DateTimeText = Annotated[str, BeforeValidator(_datetime_text)]
PageLength = Annotated[int, Field(ge=1, le=MAX_PAGE_LENGTH)]


class _Request(BaseModel):
    """Requests: unknown fields are errors; ``to_wire`` is the JSON object to post."""

    model_config = ConfigDict(
        populate_by_name=True, extra="forbid", coerce_numbers_to_str=True, frozen=True
    )

    def to_wire(self) -> dict[str, object]:
        """The payload with wire names, leaving out unset (None) fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class _CamelRequest(_Request):
    model_config = ConfigDict(alias_generator=to_camel)


class _Response(BaseModel):
    """Responses: unknown fields are kept, numbers in text fields become text."""

    model_config = ConfigDict(populate_by_name=True, extra="allow", coerce_numbers_to_str=True)


class _CamelResponse(_Response):
    model_config = ConfigDict(alias_generator=to_camel)


# --- requests -------------------------------------------------------------------------


class GetVoucherInfosRequest(_Request):
    """``getVoucherInfos``: one page of vouchers by create/modify date (yyyy-MM-dd)."""

    page_number: Annotated[int, Field(ge=1)] = 1
    page_length: PageLength = MAX_PAGE_LENGTH
    start_create_date: DateText | None = None
    end_create_date: DateText | None = None
    start_modify_date: DateText | None = None
    end_modify_date: DateText | None = None


class AddVoucherRequest(_CamelRequest):
    """``addVoucherInfo``: every documented field of a new voucher."""

    name: str
    start_date: DateText
    end_date: DateText
    money: str | None = None
    doorsill_amount: str | None = None
    doorsill_type: str | None = None
    pay_type: str | None = None
    remark: str | None = None
    grant_type: str | None = None
    each_cm_num: Count | None = None
    num: Count | None = None
    trade_range: str | None = None
    cm_type_id: str | None = None
    cm_type_name: str | None = None
    cm_level_id: str | None = None
    cm_level_name: str | None = None
    cm_dept_id: str | None = None
    cm_dept_name: str | None = None
    cm_label_id: str | None = None
    cm_label_name: str | None = None
    cm_district_id: str | None = None
    cm_district_name: str | None = None
    cm_id: str | None = None
    cm_code: str | None = None
    prod_mode: str | None = None
    prod_type_id: str | None = None
    prod_type_name: str | None = None
    prod_brand_id: str | None = None
    prod_brand_name: str | None = None
    prod_id: str | None = None
    prod_code: str | None = None
    business_from_name: str | None = None
    comment: str | None = None
    auto_receive: str | None = None
    discounts_type: str | None = None
    discounts_percent: str | None = None
    max_discounts_amount: str | None = None


class FinishVoucherRequest(_CamelRequest):
    """``finishVoucher``: stop a voucher."""

    voucher_id: IdStr


class ModifyVoucherEndDateRequest(_CamelRequest):
    """``modifyVoucherEndDate``: move a voucher's end date."""

    voucher_id: IdStr
    end_date: DateText


class ReceiveVoucherRequest(_CamelRequest):
    """``receiveVoucherInfo``: grant one voucher to one customer, named by exactly one key."""

    voucher_id: IdStr
    voucher_name: str | None = None
    cm_id: IdStr | None = None
    cm_code: str | None = None
    cm_source_code: str | None = None
    receive_time: DateTimeText | None = None

    @model_validator(mode="after")
    def _one_customer_key(self) -> ReceiveVoucherRequest:
        given = [k for k in CUSTOMER_KEYS if getattr(self, k) not in (None, "")]
        if len(given) != 1:
            msg = f"exactly one of {', '.join(CUSTOMER_KEYS)} is needed, got {given or 'none'}"
            raise ValueError(msg)
        return self


class GetCmInfosRequest(_Request):
    """``getCmInfos``: one page of the customers that hold a voucher."""

    page_number: Annotated[int, Field(ge=1)] = 1
    page_length: PageLength = MAX_PAGE_LENGTH
    voucher_id: IdStr


class QueryVoucherUsedInfoRequest(_CamelRequest):
    """``queryVoucherUsedInfo``: one page of the granted instances of one voucher.

    The document shows no paging fields, yet a server may cap one answer: the page is
    asked for like the other listings, as snake_case ``page_number``/``page_length``.
    """

    page_number: Annotated[int, Field(ge=1, alias="page_number")] = 1
    page_length: Annotated[PageLength, Field(alias="page_length")] = MAX_PAGE_LENGTH
    voucher_id: IdStr
    voucher_status: UseStatus | None = None


# --- responses ------------------------------------------------------------------------


class AddVoucherResponse(_CamelResponse):
    """``addVoucherInfo``'s response_data."""

    voucher_id: IdStr


class CmLevel(_CamelResponse):
    """A customer level a voucher is limited to."""

    cm_level_id: IdStr | None = None
    cm_level_name: str | None = None


class CmType(_CamelResponse):
    """A customer type a voucher is limited to."""

    cm_type_id: IdStr | None = None
    cm_type_name: str | None = None


class CmDepartment(_CamelResponse):
    """A customer department a voucher is limited to."""

    cm_dept_id: IdStr | None = None
    cm_dept_name: str | None = None


class CmLabel(_CamelResponse):
    """A customer label a voucher is limited to."""

    cm_label_id: IdStr | None = None
    cm_label_name: str | None = None


class CmDistrict(_CamelResponse):
    """A sales district a voucher is limited to."""

    cm_district_id: IdStr | None = None
    cm_district_code: str | None = None
    cm_district_name: str | None = None


class CmInfo(_Response):
    """A customer: ``getCmInfos`` item and ``VoucherInfo.cm_infos`` item."""

    id: IdStr
    code: str | None = None
    name: str | None = None


class PdInfo(_CamelResponse):
    """A product a voucher is limited to."""

    pd_id: IdStr | None = None
    code: str | None = None
    name: str | None = None
    is_required: str | None = None
    required_num: str | None = None
    unit_id: IdStr | None = None
    unit_name: str | None = None


class ProdBrand(_CamelResponse):
    """A product brand a voucher is limited to."""

    pd_brand_id: IdStr | None = None
    prod_brand_name: str | None = None


class ProdType(_CamelResponse):
    """A product type a voucher is limited to."""

    pd_type_id: IdStr | None = None
    prod_type_name: str | None = None


class VoucherInfo(_CamelResponse):
    """``getVoucherInfos`` item: one voucher as the server knows it."""

    id: IdStr
    name: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    money: str | None = None
    num: Count | None = None
    doorsill_type: str | None = None
    doorsill_amount: str | None = None
    each_cm_num: Count | None = None
    pay_type: str | None = None
    remark: str | None = None
    source_from: str | None = None
    has_required: str | None = None
    required_type: str | None = None
    required_allnum: str | None = None
    is_finish: str | None = None
    discounts_type: str | None = None
    discounts_percent: str | None = None
    max_discounts_amount: str | None = None
    trade_range: str | None = None
    cm_levels: Annotated[list[CmLevel], BeforeValidator(_none_is_empty)] = []
    cm_types: Annotated[list[CmType], BeforeValidator(_none_is_empty)] = []
    cm_depts: Annotated[list[CmDepartment], BeforeValidator(_none_is_empty)] = []
    cm_labels: Annotated[list[CmLabel], BeforeValidator(_none_is_empty)] = []
    cm_districts: Annotated[list[CmDistrict], BeforeValidator(_none_is_empty)] = []
    cm_infos: Annotated[list[CmInfo], BeforeValidator(_none_is_empty)] = []
    prod_mode: str | None = None
    pd_infos: Annotated[list[PdInfo], BeforeValidator(_none_is_empty)] = []
    # the document's table says "prodBrand", its example "prodBrands": accept both
    prod_brands: Annotated[list[ProdBrand], BeforeValidator(_none_is_empty)] = Field(
        default=[],
        validation_alias=AliasChoices("prodBrands", "prodBrand", "prod_brands"),
        serialization_alias="prodBrands",
    )
    prod_types: Annotated[list[ProdType], BeforeValidator(_none_is_empty)] = []

    @property
    def finished(self) -> bool:
        """True when the voucher was stopped (``isFinish`` = "Y")."""
        return (self.is_finish or "").upper() == "Y"


class VoucherUsage(_Response):
    """``queryVoucherUsedInfo`` item: one granted instance of a voucher (wire names snake_case)."""

    id: IdStr
    cm_id: IdStr | None = None
    cm_source_code: str | None = None
    cm_code: str | None = None
    cm_name: str | None = None
    voucher_id: IdStr | None = None
    voucher_name: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    doorsill_amount: str | None = None
    money: str | None = None
    discounts_type: str | None = None
    discounts_percent: str | None = None
    max_discounts_amount: str | None = None
    business_from_name: str | None = None
    create_type: str | None = None
    distribute_time: str | None = None
    receive_time: str | None = None
    order_id: IdStr | None = None
    order_no: str | None = None
    order_create_time: str | None = None
    order_amount: str | None = None
    voucher_amount: str | None = None
    use_status: str | None = None
