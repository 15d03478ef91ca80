"""Code tables: insured and subsidy categories, relations, certificate types, ethnicities.

Codes are stable English identifiers (used in policy files, the store and the sync
protocol); labels are what the clerk sees. Domain notes §2 and §5.
"""

from __future__ import annotations

# 参保人员类别 (domain notes §5: the categories met in the sources)
INSURED_CATEGORIES: dict[str, str] = {
    "ordinary": "普通居民",
    "elderly": "老年居民",
    "child_student": "中小学生及未成年人",
    "university_student": "大学生",
    "newborn": "新生儿",
    "tekun": "特困人员（含孤儿）",
    "dibao": "最低生活保障对象（低保）",
    "fanpin": "返贫致贫人口",
    "monitored": "防止返贫监测对象",
    "dibao_edge": "低保边缘家庭成员",
    "illness_poverty": "因病致贫重病患者",
    "severe_disability": "重度残疾人",
    "youfu": "优抚对象",
    "residence_permit": "居住证持有人",
}

# Groups that policies name (a policy may list a group or single categories).
CATEGORY_GROUPS: dict[str, frozenset[str]] = {
    # Zaozhuang 2021 §(四) “农村低收入人口”: exempt from the waiting period
    "rural_low_income": frozenset(
        {"tekun", "dibao", "fanpin", "monitored", "dibao_edge", "illness_poverty"}
    ),
    # 医疗救助对象 (assistance recipients; domain notes §4)
    "assistance_recipient": frozenset(
        {"tekun", "dibao", "fanpin", "monitored", "dibao_edge", "illness_poverty"}
    ),
}

# 资助参保 (subsidized enrollment): how the person's own contribution is paid
SUBSIDY_CATEGORIES: dict[str, str] = {
    "none": "无资助",
    "full": "全额资助",
    "fixed": "定额资助",
}

# Relation to the head of household (户主)
RELATIONS: dict[str, str] = {
    "head": "户主",
    "spouse": "配偶",
    "son": "子",
    "daughter": "女",
    "parent": "父母",
    "grandparent": "祖父母/外祖父母",
    "grandchild": "孙子女/外孙子女",
    "sibling": "兄弟姐妹",
    "child_in_law": "儿媳/女婿",
    "other": "其他",
}

# 证件类型: people without a resident ID card (domain notes §5; 000 §一)
CERT_TYPES: dict[str, str] = {
    "resident_id": "居民身份证",
    "birth_cert": "出生医学证明",
    "foreign_permanent": "外国人永久居留身份证",
    "hmt_residence": "港澳台居民居住证",
    "hk_macao_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
    "passport": "护照",
    "other": "其他证件",
}

SEXES = {"male": "男", "female": "女"}

HUKOU_TYPES = {"rural": "农业户口", "urban": "非农业户口"}

PERSON_STATUS = {0: "未参保", 1: "正常参保", 2: "暂停参保", 3: "终止参保"}

# GB 3304-1991 民族代码
ETHNICITIES: dict[str, str] = {
    "01": "汉族",
    "02": "蒙古族",
    "03": "回族",
    "04": "藏族",
    "05": "维吾尔族",
    "06": "苗族",
    "07": "彝族",
    "08": "壮族",
    "09": "布依族",
    "10": "朝鲜族",
    "11": "满族",
    "12": "侗族",
    "13": "瑶族",
    "14": "白族",
    "15": "土家族",
    "16": "哈尼族",
    "17": "哈萨克族",
    "18": "傣族",
    "19": "黎族",
    "20": "傈僳族",
    "21": "佤族",
    "22": "畲族",
    "23": "高山族",
    "24": "拉祜族",
    "25": "水族",
    "26": "东乡族",
    "27": "纳西族",
    "28": "景颇族",
    "29": "柯尔克孜族",
    "30": "土族",
    "31": "达斡尔族",
    "32": "仫佬族",
    "33": "羌族",
    "34": "布朗族",
    "35": "撒拉族",
    "36": "毛南族",
    "37": "仡佬族",
    "38": "锡伯族",
    "39": "阿昌族",
    "40": "普米族",
    "41": "塔吉克族",
    "42": "怒族",
    "43": "乌孜别克族",
    "44": "俄罗斯族",
    "45": "鄂温克族",
    "46": "德昂族",
    "47": "保安族",
    "48": "裕固族",
    "49": "京族",
    "50": "塔塔尔族",
    "51": "独龙族",
    "52": "鄂伦春族",
    "53": "赫哲族",
    "54": "门巴族",
    "55": "珞巴族",
    "56": "基诺族",
    "97": "其他",
    "98": "外国血统中国籍人士",
}


def expand_categories(names: list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[str]:
    """Expand group names into categories; raises KeyError naming an unknown one."""
    out: set[str] = set()
    for n in names:
        if n in CATEGORY_GROUPS:
            out |= CATEGORY_GROUPS[n]
        elif n in INSURED_CATEGORIES:
            out.add(n)
        else:
            raise KeyError(n)
    return frozenset(out)


def is_known_category(name: str) -> bool:
    return name in INSURED_CATEGORIES or name in CATEGORY_GROUPS
