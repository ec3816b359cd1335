"""The default headers of the satisfaction export (satisfaction_766.headers overrides any of them)."""
from __future__ import annotations

HEADER_KEYS = {
    "centre": ("Đơn vị", "Centre"),
    "period": ("Kỳ đánh giá", "Period"),
    "made_at": ("Lập lúc", "Made"),
    "department": ("Cơ quan", "Agency"),
    "field": ("Lĩnh vực", "Field"),
    "officer": ("Cán bộ", "Officer"),
    "username": ("Tài khoản", "Account"),
    "rated_tickets": ("Số lượt được đánh giá", "Rated tickets"),
    "positive": ("Số lượt hài lòng", "Satisfied"),
    "satisfaction_rate": ("Tỷ lệ hài lòng (%)", "Satisfaction rate (%)"),
    "total": ("Tổng cộng", "Total"),
    "sheet_department": ("Theo cơ quan", "By agency"),
    "sheet_field": ("Theo lĩnh vực", "By field"),
    "sheet_officer": ("Theo cán bộ", "By officer"),
    "dossier": ("Mã hồ sơ", "Dossier code"),
    "tickets": ("Số lượt phục vụ", "Tickets"),
    "sheet_dossier": ("Theo hồ sơ", "By dossier"),
}
